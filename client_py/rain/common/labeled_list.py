"""A list whose items may carry unique labels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSequence
from typing import Any, TypeVar, overload

T = TypeVar("T")


def _check_label(label: Any) -> None:
    """Labels are hashable and neither None (= no label), int nor slice (those index)."""
    if label is None:
        return
    if isinstance(label, (int, slice)):
        raise TypeError(f"a label may not be an int or a slice: {label!r}")
    hash(label)  # raises TypeError for unhashable labels


class LabeledList(MutableSequence[T]):
    """A list that may also be indexed by labels.

    ``data`` holds the items and ``labels`` the label of each (None = unlabeled). Index with an
    int, a slice (giving a LabeledList that keeps labels) or a label. ``label in l`` tests
    labels. Labels are unique: a duplicate raises ``KeyError``. Replacing items through
    ``l[i] = v`` or slice assignment drops their labels.
    """

    def __init__(self, items: Iterable[T] | None = None, labels: Iterable[Any] | None = None,
                 pairs: Iterable[tuple[Any, T]] | None = None) -> None:
        self.data: list[T] = []
        self.labels: list[Any] = []  # hashable, or None
        self._positions: dict[Any, int] = {}
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
            raise ValueError(f"{len(labels)} labels for {len(items)} items")
        for value, label in zip(items, labels):
            self.append(value, label)

    # --- internal index of labels -------------------------------------------------------------

    def _reindex(self, start: int = 0) -> None:
        """Recomputes label positions from ``start`` on (after an insert or delete)."""
        for i in range(start, len(self.labels)):
            label = self.labels[i]
            if label is not None:
                self._positions[label] = i

    def _position(self, key: Any) -> int:
        """Position of an int or label key."""
        if isinstance(key, int):
            return range(len(self.data))[key]  # normalizes negatives, raises IndexError
        try:
            return self._positions[key]
        except TypeError:
            raise KeyError(key) from None

    def _claim(self, label: Any, position: int | None) -> None:
        _check_label(label)
        if label is None:
            return
        owner = self._positions.get(label)
        if owner is not None and owner != position:
            raise KeyError(f"duplicate label {label!r}")

    def _check(self) -> bool:
        """Verifies internal consistency; raises AssertionError when broken."""
        if len(self.data) != len(self.labels):
            raise AssertionError(f"{len(self.data)} items but {len(self.labels)} labels")
        expected: dict[Any, int] = {}
        for i, label in enumerate(self.labels):
            if label is None:
                continue
            if label in expected:
                raise AssertionError(f"duplicate label {label!r}")
            expected[label] = i
        if expected != self._positions:
            raise AssertionError(
                f"label index {self._positions!r} does not match labels {self.labels!r}")
        return True

    # --- sequence protocol ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __contains__(self, label: object) -> bool:
        try:
            return label in self._positions
        except TypeError:
            return False

    @overload
    def __getitem__(self, key: slice) -> LabeledList[T]: ...

    @overload
    def __getitem__(self, key: Any) -> T: ...

    def __getitem__(self, key: Any) -> T | LabeledList[T]:
        if isinstance(key, slice):
            return LabeledList(self.data[key], self.labels[key])
        return self.data[self._position(key)]

    @overload
    def __setitem__(self, key: slice, value: Iterable[T]) -> None: ...

    @overload
    def __setitem__(self, key: Any, value: T) -> None: ...

    def __setitem__(self, key: Any, value: Any) -> None:
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

    def __delitem__(self, key: Any) -> None:
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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabeledList):
            return NotImplemented
        return self.data == other.data and self.labels == other.labels

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable, like list

    def __add__(self, other: Iterable[T]) -> LabeledList[T]:
        result = LabeledList(self)
        result.extend(other)
        return result

    def __repr__(self) -> str:
        parts: list[str] = []
        for label, value in zip(self.labels, self.data):
            parts.append(repr(value) if label is None else f"{label!r}: {value!r}")
        return f"<LabeledList [{', '.join(parts)}]>"

    # --- list operations with labels --------------------------------------------------------

    def append(self, value: T, label: Any = None) -> None:
        self._claim(label, None)
        self.data.append(value)
        self.labels.append(label)
        if label is not None:
            self._positions[label] = len(self.data) - 1

    def insert(self, index: int, value: T, label: Any = None) -> None:
        self._claim(label, None)
        # The same clamping as list.insert.
        position = index if index >= 0 else max(len(self.data) + index, 0)
        position = min(position, len(self.data))
        self.data.insert(position, value)
        self.labels.insert(position, label)
        self._reindex(position)

    def extend(self, values: Iterable[T]) -> None:
        """Appends the items; those of a LabeledList keep their labels."""
        pairs: list[tuple[Any, T]]
        if isinstance(values, LabeledList):
            pairs = list(zip(values.labels, values.data))
        else:
            pairs = [(None, value) for value in values]
        for label, _ in pairs:
            self._claim(label, None)
        seen: set[Any] = set()
        for label, _ in pairs:
            if label is not None:
                if label in seen:
                    raise KeyError(f"duplicate label {label!r}")
                seen.add(label)
        for label, value in pairs:
            self.append(value, label)

    def set(self, index: Any, value: T, label: Any = None) -> None:
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

    def set_label(self, index: Any, label: Any) -> None:
        """Sets (or with None removes) the label of the item at ``index``."""
        position = self._position(index)
        self.set(position, self.data[position], label)

    def get_label(self, index: Any) -> Any:
        return self.labels[self._position(index)]

    def items(self) -> list[tuple[Any, T]]:
        """``(label, value)`` pairs; label is None for unlabeled items."""
        return list(zip(self.labels, self.data))

    def pop(self, index: Any = -1) -> T:
        value = self[index]
        del self[index]
        return value

    def copy(self) -> LabeledList[T]:
        return LabeledList(self)
