"""A list whose items may carry unique labels."""

from collections.abc import MutableSequence


def _check_label(label):
    """Labels are hashable and neither None (= no label), int nor slice (those index)."""
    if label is None:
        return
    if isinstance(label, (int, slice)):
        raise TypeError("a label may not be an int or a slice: {!r}".format(label))
    hash(label)  # raises TypeError for unhashable labels


class LabeledList(MutableSequence):
    """A list that may also be indexed by labels.

    ``data`` holds the items and ``labels`` the label of each (None = unlabeled). Index with an
    int, a slice (giving a LabeledList that keeps labels) or a label. ``label in l`` tests
    labels. Labels are unique: a duplicate raises ``KeyError``. Replacing items through
    ``l[i] = v`` or slice assignment drops their labels.
    """

    def __init__(self, items=None, labels=None, pairs=None):
        self.data = []
        self.labels = []
        self._positions = {}
        if pairs is not None:
            if items is not None or labels is not None:
                raise ValueError("give either 'pairs' or 'items' (and 'labels'), not both")
            for label, value in pairs:
                self.append(value, label)
            return
        if items is None:
            if labels is not None:
                raise ValueError("'labels' given without 'items'")
            return
        if labels is None and isinstance(items, LabeledList):
            labels = items.labels
        items = list(items)
        if labels is None:
            self.data = items
            self.labels = [None] * len(items)
            return
        labels = list(labels)
        if len(labels) != len(items):
            raise ValueError("{} labels for {} items".format(len(labels), len(items)))
        for value, label in zip(items, labels):
            self.append(value, label)

    # --- internal index of labels -------------------------------------------------------------

    def _reindex(self, start=0):
        """Recomputes label positions from ``start`` on (after an insert or delete)."""
        for i in range(start, len(self.labels)):
            label = self.labels[i]
            if label is not None:
                self._positions[label] = i

    def _position(self, key):
        """Position of an int or label key."""
        if isinstance(key, int):
            return range(len(self.data))[key]  # normalizes negatives, raises IndexError
        try:
            return self._positions[key]
        except TypeError:
            raise KeyError(key) from None

    def _claim(self, label, position):
        _check_label(label)
        if label is None:
            return
        owner = self._positions.get(label)
        if owner is not None and owner != position:
            raise KeyError("duplicate label {!r}".format(label))

    def _check(self):
        """Verifies internal consistency; raises AssertionError when broken."""
        if len(self.data) != len(self.labels):
            raise AssertionError("{} items but {} labels".format(len(self.data), len(self.labels)))
        expected = {}
        for i, label in enumerate(self.labels):
            if label is None:
                continue
            if label in expected:
                raise AssertionError("duplicate label {!r}".format(label))
            expected[label] = i
        if expected != self._positions:
            raise AssertionError("label index {!r} does not match labels {!r}"
                                 .format(self._positions, self.labels))
        return True

    # --- sequence protocol ------------------------------------------------------------------

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return iter(self.data)

    def __contains__(self, label):
        try:
            return label in self._positions
        except TypeError:
            return False

    def __getitem__(self, key):
        if isinstance(key, slice):
            return LabeledList(self.data[key], self.labels[key])
        return self.data[self._position(key)]

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            # The replaced items lose their labels; the new ones come without labels.
            pairs = list(zip(self.labels, self.data))
            pairs[key] = [(None, v) for v in value]
            self.labels = [label for label, _ in pairs]
            self.data = [v for _, v in pairs]
            self._positions = {}
            self._reindex()
            return
        position = self._position(key)
        if isinstance(key, int):
            self.set(position, value)
        else:
            self.data[position] = value  # by label: keeps the label

    def __delitem__(self, key):
        if isinstance(key, slice):
            for label in self.labels[key]:
                if label is not None:
                    del self._positions[label]
            del self.data[key]
            del self.labels[key]
            self._positions = {}
            self._reindex()
            return
        position = self._position(key)
        label = self.labels[position]
        if label is not None:
            del self._positions[label]
        del self.data[position]
        del self.labels[position]
        self._reindex(position)

    def __eq__(self, other):
        if not isinstance(other, LabeledList):
            return NotImplemented
        return self.data == other.data and self.labels == other.labels

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    def __add__(self, other):
        result = LabeledList(self)
        result.extend(other)
        return result

    def __repr__(self):
        parts = []
        for label, value in zip(self.labels, self.data):
            parts.append(repr(value) if label is None else "{!r}: {!r}".format(label, value))
        return "<LabeledList [{}]>".format(", ".join(parts))

    # --- list operations with labels --------------------------------------------------------

    def append(self, value, label=None):
        self._claim(label, None)
        self.data.append(value)
        self.labels.append(label)
        if label is not None:
            self._positions[label] = len(self.data) - 1

    def insert(self, index, value, label=None):
        self._claim(label, None)
        # The same clamping as list.insert.
        position = index if index >= 0 else max(len(self.data) + index, 0)
        position = min(position, len(self.data))
        self.data.insert(position, value)
        self.labels.insert(position, label)
        self._reindex(position)

    def extend(self, values):
        """Appends the items; those of a LabeledList keep their labels."""
        if isinstance(values, LabeledList):
            pairs = list(zip(values.labels, values.data))
        else:
            pairs = [(None, value) for value in values]
        for label, _ in pairs:
            self._claim(label, None)
        seen = set()
        for label, _ in pairs:
            if label is not None:
                if label in seen:
                    raise KeyError("duplicate label {!r}".format(label))
                seen.add(label)
        for label, value in pairs:
            self.append(value, label)

    def set(self, index, value, label=None):
        """Sets the item at ``index`` and its label (None removes the label)."""
        position = self._position(index)
        self._claim(label, position)
        old = self.labels[position]
        if old is not None:
            del self._positions[old]
        self.data[position] = value
        self.labels[position] = label
        if label is not None:
            self._positions[label] = position

    def set_label(self, index, label):
        """Sets (or with None removes) the label of the item at ``index``."""
        position = self._position(index)
        self.set(position, self.data[position], label)

    def get_label(self, index):
        return self.labels[self._position(index)]

    def items(self):
        """``(label, value)`` pairs; label is None for unlabeled items."""
        return list(zip(self.labels, self.data))

    def pop(self, index=-1):
        value = self[index]
        del self[index]
        return value

    def copy(self):
        return LabeledList(self)
