"""Program as Rain 0.4 scripts use it: string labels for stdin and input_paths, name= and
unknown keywords at the call, Outputs given at the call, the task's name."""

import pytest

from rain.client import (Input, Output, OutputDir, Program, RainException, Session, blob,
                         pickled)
from rain.common.attributes import TaskSpecInput


@pytest.fixture
def session():
    with Session(None, 1) as s:
        yield s


# --- offline: the graph a call builds ---------------------------------------------------------

def test_a_string_stdin_is_the_label_of_an_input(session):
    cat = Program("cat", stdin="inp", stdout=True)
    data = blob(b"x")
    t = cat(inp=data)
    assert t.spec.inputs == [TaskSpecInput(data.id, "inp")]
    assert t.spec.config == {"args": ["cat"], "in_paths": [{"path": "+in", "write": False}],
                             "out_paths": ["+out"]}
    with pytest.raises(KeyError, match="inp"):
        cat()
    with pytest.raises(KeyError, match="inp"):
        cat(other=data)


def test_a_string_in_input_paths_is_label_and_path(session):
    prog = Program(["cat", "f", "g"], input_paths=["f", Input("g", path="sub/g")], stdout=True)
    f, g = blob(b"1"), blob(b"2")
    t = prog(f=f, g=g)
    assert t.spec.inputs == [TaskSpecInput(f.id, "f"), TaskSpecInput(g.id, "g")]
    assert t.spec.config["in_paths"] == [{"path": "f", "write": False},
                                         {"path": "sub/g", "write": False}]
    with pytest.raises(KeyError, match="'g'"):
        prog(f=f)


def test_name_at_the_call_overrides_the_programs_name(session):
    named = Program("cat", stdin="inp", stdout=True, name="concatenate")
    unnamed = Program("cat", stdin="inp", stdout=True)
    data = blob(b"x")
    assert named(inp=data).name == "concatenate"
    assert named(inp=data, name="mine").name == "mine"
    assert named(inp=data, name=None).name is None
    assert unnamed(inp=data).name is None and unnamed(inp=data).spec.name is None
    assert unnamed(inp=data, name="mine").spec.name == "mine"
    with pytest.raises(TypeError, match="name must be a str"):
        unnamed(inp=data, name=3)


def test_an_input_labelled_name_is_filled_by_a_data_object(session):
    prog = Program(["cat", Input("name")], stdout=True, name="prog")
    data = blob(b"x")
    t = prog(name=data)
    assert t.spec.inputs == [TaskSpecInput(data.id, "name")] and t.name == "prog"


def test_unknown_keywords_are_ignored(session):
    prog = Program("cat", stdin="inp", stdout=True)
    data, other = blob(b"x"), blob(b"y")
    t = prog(inp=data, unused=other, flag=True)
    assert t.spec.inputs == [TaskSpecInput(data.id, "inp")]
    # An Output under a label that is no output's is ignored too.
    assert prog(inp=data, nothing=Output(content_type="json")).outputs.labels == ["stdout"]


def test_an_output_at_the_call_replaces_the_declaration(session):
    prog = Program(["sh", "-c", "x", Output("res", path="out/res.txt")],
                   stdout=Output(content_type="text"), output_paths=["extra"])
    data = blob(b"x")
    plain = prog(data=data)
    assert [o.content_type for o in plain.outputs] == ["text", None, None]
    t = prog(stdout=Output(content_type="json"), extra=Output(encode="pickle", size_hint=9),
             res=Output("result", content_type="cbor"))
    assert t.outputs.labels == ["stdout", "extra", "result"]
    assert [o.content_type for o in t.outputs] == ["json", "pickle", "cbor"]
    # The paths are the Program's: argv and out_paths are unchanged.
    assert t.spec.config["out_paths"] == plain.spec.config["out_paths"] == \
        ["+out", "extra", "out/res.txt"]
    assert t.spec.config["args"] == ["sh", "-c", "x", "out/res.txt"]
    with pytest.raises(RainException, match="out/res.txt"):
        prog(res=Output(path="elsewhere"))
    with pytest.raises(RainException, match="blob"):
        prog(extra=OutputDir())
    with pytest.raises(RainException, match="path"):
        prog(stdout=Output(path="x"))


def test_a_string_stdin_is_a_label_even_if_it_looks_like_a_path(session):
    # A plain string given as stdin is a label even when it looks like a path or a command.
    prog = Program("wc -c", stdin="data/input.txt", stdout=True)
    assert prog.stdin.label == "data/input.txt" and prog.stdin.dataobj is None
    t = prog(**{"data/input.txt": blob(b"abc")})
    assert t.spec.inputs[0].label == "data/input.txt"


def test_programs_reject_data_in_their_patterns(session):
    with pytest.raises(RainException, match="without data"):
        Program("cat", stdin=blob(b"x"))
    with pytest.raises(RainException, match="without data"):
        Program("cat", input_paths=[Input("f", dataobj=blob(b"x"))])


# --- against a cluster ------------------------------------------------------------------------

def test_string_stdin_end_to_end(client):
    cat = Program("cat", stdin="inp", stdout=True)
    with client.new_session() as session:
        t = cat(inp=blob(b"x"), unused=blob(b"ignored"))
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"x"


def test_string_input_paths_end_to_end(client):
    prog = Program(["cat", "f"], input_paths=["f"], stdout=True, name="show")
    with client.new_session() as session:
        t = prog(f=blob(b"file contents"), name="show f")
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"file contents"
        t.update()
        assert t.name == "show f" and t.info.governor


def test_output_override_end_to_end(client):
    prog = Program(["sh", "-c", "cat data > res", Output("res")], input_paths=["data"])
    with client.new_session() as session:
        t = prog(data=pickled([1, 2]), res=Output(content_type="pickle"))
        t.output.keep()
        session.submit()
        assert t.output.content_type == "pickle"
        assert t.output.fetch().load() == [1, 2]
