"""LabeledList: every documented behaviour, with _check() after each change."""

import pytest

from rain.common import LabeledList


def checked(lst):
    lst._check()
    return lst


def test_constructors():
    assert list(checked(LabeledList())) == []
    plain = checked(LabeledList([1, 2, 3]))
    assert plain.data == [1, 2, 3] and plain.labels == [None, None, None]
    labeled = checked(LabeledList([1, 2], labels=["a", "b"]))
    assert labeled["a"] == 1 and labeled["b"] == 2
    from_pairs = checked(LabeledList(pairs=[("a", 1), (None, 2), ("c", 3)]))
    assert from_pairs.data == [1, 2, 3] and from_pairs.labels == ["a", None, "c"]
    copy = checked(LabeledList(from_pairs))
    assert copy == from_pairs and copy is not from_pairs
    copy.append(4)
    assert len(from_pairs) == 3  # a real copy
    assert checked(from_pairs.copy()) == from_pairs


def test_constructor_errors():
    with pytest.raises(ValueError, match="1 labels for 2 items"):
        LabeledList([1, 2], labels=["a"])
    with pytest.raises(KeyError, match="duplicate label 'a'"):
        LabeledList([1, 2], labels=["a", "a"])
    with pytest.raises(KeyError, match="duplicate label 'a'"):
        LabeledList(pairs=[("a", 1), ("a", 2)])
    with pytest.raises(ValueError, match="give either 'pairs' or 'items'"):
        LabeledList([1], pairs=[("a", 1)])


def test_index_by_int_slice_and_label():
    lst = LabeledList(pairs=[("a", 1), (None, 2), ("c", 3)])
    assert lst[0] == 1 and lst[-1] == 3 and lst["c"] == 3
    sub = checked(lst[1:])
    assert isinstance(sub, LabeledList)
    assert sub.data == [2, 3] and sub.labels == [None, "c"]
    assert sub["c"] == 3
    with pytest.raises(IndexError):
        lst[3]
    with pytest.raises(KeyError, match="missing"):
        lst["missing"]
    with pytest.raises(KeyError):
        lst[["unhashable"]]


def test_in_tests_labels():
    lst = LabeledList(pairs=[("a", 1), (None, 2)])
    assert "a" in lst
    assert "b" not in lst
    assert 1 not in lst  # items are not labels
    assert [1] not in lst  # unhashable: simply not a label


def test_labels_of_any_hashable_but_none_int_slice():
    lst = LabeledList()
    lst.append(1, ("tuple", "label"))
    lst.append(2, 2.5)
    lst.append(3, frozenset([1]))
    assert checked(lst)[("tuple", "label")] == 1 and lst[2.5] == 2
    for bad in (7, True, slice(1, 2)):
        with pytest.raises(TypeError, match="a label may not be an int or a slice"):
            lst.append(0, bad)
    with pytest.raises(TypeError, match="unhashable"):
        lst.append(0, ["unhashable"])
    lst.append(4, None)  # None = no label
    assert checked(lst).labels[-1] is None


def test_append_insert_and_duplicates():
    lst = LabeledList()
    lst.append("x", "a")
    lst.append("y")
    lst.insert(0, "w", "first")
    lst.insert(-1, "v")
    lst.insert(100, "z", "last")
    checked(lst)
    assert lst.data == ["w", "x", "v", "y", "z"]
    assert lst.labels == ["first", "a", None, None, "last"]
    assert lst["a"] == "x" and lst["last"] == "z"
    with pytest.raises(KeyError, match="duplicate label 'a'"):
        lst.append("again", "a")
    with pytest.raises(KeyError, match="duplicate label 'first'"):
        lst.insert(0, "again", "first")
    assert len(checked(lst)) == 5


def test_set_set_label_get_label():
    lst = LabeledList(pairs=[("a", 1), ("b", 2), (None, 3)])
    lst.set(2, 30, "c")
    assert checked(lst)["c"] == 30
    lst.set(0, 10)  # no label given: the label is removed
    assert checked(lst).labels == [None, "b", "c"]
    assert "a" not in lst
    lst.set_label(0, "a")
    assert checked(lst)["a"] == 10 and lst.get_label(0) == "a"
    lst.set_label(0, None)
    assert checked(lst).get_label(0) is None
    lst.set_label(1, "b")  # its own label again is fine
    with pytest.raises(KeyError, match="duplicate label 'c'"):
        lst.set_label(0, "c")
    with pytest.raises(KeyError, match="duplicate label 'b'"):
        lst.set(0, 1, "b")
    assert lst.get_label(-1) == "c"
    checked(lst)


def test_item_assignment_drops_label():
    lst = LabeledList(pairs=[("a", 1), ("b", 2)])
    lst[0] = 100
    assert checked(lst).labels == [None, "b"] and lst.data == [100, 2]
    lst["b"] = 200  # by label: the label stays
    assert checked(lst).labels == [None, "b"] and lst["b"] == 200


def test_slice_assignment_drops_labels():
    lst = LabeledList(pairs=[("a", 1), ("b", 2), ("c", 3), ("d", 4)])
    lst[1:3] = [20, 30, 35]
    checked(lst)
    assert lst.data == [1, 20, 30, 35, 4]
    assert lst.labels == ["a", None, None, None, "d"]
    assert lst["d"] == 4 and "b" not in lst
    lst[::2] = ["x", "y", "z"]
    assert checked(lst).labels == [None, None, None, None, None]
    with pytest.raises(ValueError, match="extended slice"):
        lst[::2] = [1]


def test_delete_and_pop():
    lst = LabeledList(pairs=[("a", 1), ("b", 2), (None, 3), ("d", 4)])
    del lst[0]
    assert checked(lst).labels == ["b", None, "d"] and lst["d"] == 4
    del lst["d"]
    assert checked(lst).data == [2, 3]
    lst.extend([5, 6])
    del lst[1:3]
    assert checked(lst).data == [2, 6] and lst["b"] == 2
    assert lst.pop() == 6
    assert lst.pop(0) == 2
    assert len(checked(lst)) == 0
    with pytest.raises(IndexError):
        lst.pop()
    with pytest.raises(KeyError, match="'b'"):
        del lst["b"]


def test_items_iteration_len():
    lst = LabeledList(pairs=[("a", 1), (None, 2)])
    assert list(lst.items()) == [("a", 1), (None, 2)]
    assert list(lst) == [1, 2] and len(lst) == 2
    assert lst.index(2) == 1 and lst.count(1) == 1
    assert list(reversed(lst)) == [2, 1]


def test_equality_only_with_labeled_lists():
    a = LabeledList([1, 2], labels=["x", None])
    assert a == LabeledList([1, 2], labels=["x", None])
    assert a != LabeledList([1, 2])
    assert a != LabeledList([1, 3], labels=["x", None])
    assert a != [1, 2]
    assert not (a == [1, 2])
    assert LabeledList([1, 2]) != (1, 2)


def test_concatenation_keeps_labels():
    a = LabeledList(pairs=[("x", 1)])
    b = LabeledList(pairs=[("y", 2), (None, 3)])
    both = checked(a + b)
    assert both.items() == [("x", 1), ("y", 2), (None, 3)]
    assert checked(a + [4]).items() == [("x", 1), (None, 4)]
    with pytest.raises(KeyError, match="duplicate label 'x'"):
        a + LabeledList(pairs=[("x", 9)])
    # Folds of a list, as in the cross-validation example: chunks[:i] + chunks[i+1:].
    chunks = LabeledList(pairs=[("x00", 0), ("x01", 1), ("x02", 2)])
    assert (chunks[:1] + chunks[2:]).data == [0, 2]
    a += [5]
    assert checked(a).data == [1, 5]


def test_check_detects_corruption():
    lst = LabeledList(pairs=[("a", 1), ("b", 2)])
    assert lst._check()
    lst.labels[0] = "z"  # bypassing the API breaks the label index
    with pytest.raises(AssertionError, match="label index .* does not match labels"):
        lst._check()
    lst = LabeledList(pairs=[("a", 1)])
    lst.data.append(2)
    with pytest.raises(AssertionError, match="2 items but 1 labels"):
        lst._check()


def test_repr_mentions_labels():
    text = repr(LabeledList(pairs=[("a", 1), (None, 2)]))
    assert "'a': 1" in text and "2" in text
