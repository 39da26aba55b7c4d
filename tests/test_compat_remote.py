"""Rain 0.4 behaviours of Python tasks (reference §8): task names, return annotations mixing
Outputs and labels, the wording of the large-argument warning, and ``encode="arrow"`` for plain
Python lists and dicts of columns."""

import pytest

from rain.client import Output, RainException, RainWarning, Remote, Session, blob, remote
from rain.common.content_type import decode_value, encode_value


# --- names --------------------------------------------------------------------------------------

def test_task_names_from_decorator_function_and_call():
    @remote()
    def plain(ctx, x):
        return b""

    @remote(name="given")
    def renamed(ctx, x):
        return b""

    @remote()
    def greet(ctx, name):
        return name

    with Session(None, 1).bind_only():
        assert plain(1).name == "plain"
        assert renamed(1).name == "given"
        t = plain(1, name="n1")
        assert t.name == "n1" and t.spec.name == "n1"
        assert renamed(1, name="n2").name == "n2"
        assert Remote(plain.fn, name="r")(1).name == "r"
        # A function with a parameter called "name" gets it as that argument.
        t = greet(name="Bob")
        assert t.name == "greet"
        # The function object stays one per session whatever the tasks are called.
        assert plain(1, name="a").inputs[0] is plain(2, name="b").inputs[0]


def test_per_call_names_reach_the_server(client):
    @remote()
    def word(ctx, w):
        return w

    with client.new_session() as session:
        default, named = word("a"), word("b", name="second")
        session.submit()
        session.wait((default, named))
        session.update((default, named))
        assert (default.name, named.name) == ("word", "second")
        assert (default.spec.name, named.spec.name) == ("word", "second")


# --- return annotations -------------------------------------------------------------------------

def test_return_annotations_mixing_outputs_and_labels(client):
    @remote()
    def mixed(ctx) -> ("a", Output("b", encode="json")):
        return {"a": b"A", "b": [1, 2]}

    @remote()
    def as_list(ctx) -> [Output(encode="pickle"), "second"]:
        return ({3}, b"S")

    @remote()
    def labels_only(ctx) -> ("x", "y"):
        return (b"X", b"Y")

    @remote()
    def postponed(ctx) -> "bytes":  # a string annotation, not a label
        return b"P"

    @remote()
    def postponed_one(ctx) -> ("bytes",):  # a tuple of strings counts: one output "bytes"
        return b"Q"

    @remote(outputs=["z"])
    def explicit(ctx) -> ("ignored", "too"):  # outputs= wins over the annotation
        return b"Z"

    with client.new_session() as session:
        tm, tl, to, tp, tq, te = (mixed(), as_list(), labels_only(), postponed(),
                                  postponed_one(), explicit())
        assert [o.label for o in tm.outputs] == ["a", "b"]
        assert [o.content_type for o in tm.outputs] == [None, "json"]
        assert [o.label for o in tl.outputs] == ["out0", "second"]
        assert tl.outputs[0].content_type == "pickle"
        assert [o.label for o in to.outputs] == ["x", "y"]
        assert [o.label for o in tp.outputs] == ["out0"]
        assert [o.label for o in tq.outputs] == ["bytes"]
        assert [o.label for o in te.outputs] == ["z"]
        for t in (tm, tl, to, tp, tq, te):
            t.keep_outputs()
        session.submit()
        assert tm.outputs["a"].fetch().get_bytes() == b"A"
        assert tm.outputs["b"].fetch().load() == [1, 2]
        assert tl.outputs[0].fetch().load() == {3}
        assert tl.outputs["second"].fetch().get_bytes() == b"S"
        assert [o.fetch().get_bytes() for o in to.outputs] == [b"X", b"Y"]
        assert tp.output.fetch().get_bytes() == b"P"
        assert tq.output.fetch().get_bytes() == b"Q"
        assert te.output.fetch().get_bytes() == b"Z"


def test_annotations_that_declare_no_outputs():
    @remote()
    def empty_tuple(ctx) -> ():
        return b""

    @remote()
    def other_types(ctx) -> (int, "a"):
        return b""

    @remote()
    def flag(ctx) -> True:
        return b""

    with Session(None, 1).bind_only():
        for f in (empty_tuple, other_types, flag):
            assert [o.label for o in f().outputs] == ["out0"], f


# --- the large-argument warning -----------------------------------------------------------------

def test_large_argument_warning_wording():
    @remote()
    def f(ctx, small, data):
        return b""

    with Session(None, 1).bind_only():
        payload = b"x" * (300 * 1024)
        with pytest.raises(RainWarning, match=r"^Pickled object data length (\d+) > 262144") \
                as raised:
            f(1, payload)
        length = int(str(raised.value).split()[4])
        assert 300 * 1024 < length < 300 * 1024 + 100  # the pickled size, not the raw one
        assert "blob(" in str(raised.value)  # and what to do instead
        # Just below the limit is fine.
        f(1, b"x" * (200 * 1024))


# --- arrow --------------------------------------------------------------------------------------

ARROW_VALUES = [
    ["D"],
    [],
    [1, 2, None],
    [[1, 2], [3]],
    [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
    {"a": [1, 2], "b": ["x", "y"]},
    {"f": [1.5], "n": [None]},
    {},
]


@pytest.mark.parametrize("value", ARROW_VALUES, ids=repr)
def test_arrow_round_trips_lists_and_dicts_of_columns(value):
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (optional, for 'arrow')")
    loaded = decode_value(encode_value(value, "arrow"), "arrow")
    assert loaded == value and type(loaded) is type(value)


def test_arrow_tables_stay_tables_and_bad_values_are_client_errors():
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (optional, for 'arrow')")
    table = pa.table({"x": [1, 2], "y": ["a", "b"]})
    loaded = decode_value(encode_value(table, "arrow"), "arrow")
    assert isinstance(loaded, pa.Table) and loaded.equals(table)
    batch = pa.record_batch([pa.array([7])], names=["z"])
    assert decode_value(encode_value(batch, "arrow"), "arrow").to_pydict() == {"z": [7]}
    # A table that happens to look like a list stays a table: only our marker makes a list.
    values = pa.table({"values": [1]})
    assert isinstance(decode_value(encode_value(values, "arrow"), "arrow"), pa.Table)
    # Column tuples load back as lists (arrow has no tuples).
    assert decode_value(encode_value({"t": (1, 2)}, "arrow"), "arrow") == {"t": [1, 2]}
    with pytest.raises(RainException, match="cannot encode a list as arrow"):
        encode_value([1, "a"], "arrow")
    with pytest.raises(RainException, match="cannot encode a dict as arrow"):
        encode_value({"a": [1], "b": [1, 2]}, "arrow")
    with pytest.raises(RainException, match="cannot encode a int as arrow"):
        encode_value(5, "arrow")


def test_arrow_values_through_python_tasks(client):
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (optional, for 'arrow')")

    @remote(auto_load=True)
    def summarize(ctx, column, table) -> Output(encode="arrow"):
        return {"n": [len(column)], "total": [sum(table["v"])]}

    @remote(auto_load=True)
    def as_list(ctx, column) -> Output(encode="arrow"):
        return [c.lower() for c in column]

    with client.new_session() as session:
        column = blob(["D", "E"], encode="arrow")
        table = blob({"v": [1, 2, 3]}, encode="arrow")
        assert column.content_type == "arrow"
        t, tl = summarize(column, table), as_list(column)
        t.keep_outputs()
        tl.keep_outputs()
        session.submit()
        assert t.output.fetch().load() == {"n": [2], "total": [6]}
        assert tl.output.fetch().load() == ["d", "e"]
