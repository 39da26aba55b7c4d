"""The server rejects invalid submits whole, naming the offending id (docs/protocol.md,
"Submit"). These graphs bypass the client's own checks: they are sent as raw headers."""

import pytest

from rain.client import RainException, TaskException, blob, tasks


def spec(sid, i, data_type="blob", **extra):
    return dict({"id": [sid, i], "data_type": data_type}, **extra)


def constant(sid, i, data=b"x", data_type="blob", keep=False):
    entry = {"spec": spec(sid, i, data_type), "data_size": len(data)}
    if keep:
        entry["keep"] = True
    return entry, data


def output(sid, i, data_type="blob", keep=False):
    entry = {"spec": spec(sid, i, data_type)}
    if keep:
        entry["keep"] = True
    return entry


def task(sid, i, task_type="buildin/concat", inputs=(), outputs=(), config=None, cpus=1):
    result = {"id": [sid, i], "task_type": task_type,
              "inputs": [{"id": [sid, x]} for x in inputs],
              "outputs": [[sid, x] for x in outputs], "resources": {"cpus": cpus}}
    if config is not None:
        result["config"] = config
    return result


def raw_submit(session, tasks_json, objects_with_data):
    objects = [o[0] if isinstance(o, tuple) else o for o in objects_with_data]
    data = [o[1] for o in objects_with_data if isinstance(o, tuple)]
    session.client._api.submit(session.session_id, tasks_json, objects, data)


def invalid_graphs(sid):
    """(name, tasks, objects, offending id) of each kind of rejected submit."""
    c10 = constant(sid, 10)
    return [
        ("id of another session", [task(sid, 11, inputs=[10], outputs=[12])],
         [c10, output(sid + 1000, 12)], "{}/12".format(sid + 1000)),
        ("duplicate task id", [task(sid, 11, inputs=[10], outputs=[12]),
                               task(sid, 11, inputs=[10], outputs=[13])],
         [c10, output(sid, 12), output(sid, 13)], "{}/11".format(sid)),
        ("duplicate object id", [], [c10, constant(sid, 10)], "{}/10".format(sid)),
        ("unknown input", [task(sid, 11, inputs=[99], outputs=[12])], [output(sid, 12)],
         "{}/99".format(sid)),
        ("unknown output", [task(sid, 11, inputs=[10], outputs=[98])], [c10],
         "{}/98".format(sid)),
        ("two producers", [task(sid, 11, inputs=[10], outputs=[13]),
                           task(sid, 12, inputs=[10], outputs=[13])],
         [c10, output(sid, 13)], "{}/13".format(sid)),
        ("no producer, not a constant", [task(sid, 11, inputs=[12], outputs=[13])],
         [output(sid, 12), output(sid, 13)], "{}/12".format(sid)),
        ("cycle", [task(sid, 11, inputs=[14], outputs=[13]),
                   task(sid, 12, inputs=[13], outputs=[14])],
         [output(sid, 13), output(sid, 14)], None),
        ("bad task type", [task(sid, 11, task_type="noslash", inputs=[10], outputs=[12])],
         [c10, output(sid, 12)], "{}/11".format(sid)),
        ("unknown built-in", [task(sid, 11, task_type="buildin/nope", inputs=[10],
                                   outputs=[12])], [c10, output(sid, 12)], "{}/11".format(sid)),
        ("sleep without config", [task(sid, 11, "buildin/sleep", inputs=[10], outputs=[12])],
         [c10, output(sid, 12)], "{}/11".format(sid)),
        ("sleep with 2 inputs", [task(sid, 11, "buildin/sleep", inputs=[10, 10],
                                      outputs=[12], config={"seconds": 1})],
         [c10, output(sid, 12)], "{}/11".format(sid)),
        ("sleep changing data type", [task(sid, 11, "buildin/sleep", inputs=[10], outputs=[12],
                                           config={"seconds": 1})],
         [c10, output(sid, 12, "dir")], "{}/11".format(sid)),
        ("concat with 2 outputs", [task(sid, 11, inputs=[10], outputs=[12, 13])],
         [c10, output(sid, 12), output(sid, 13)], "{}/11".format(sid)),
        ("concat of a directory", [task(sid, 11, inputs=[10], outputs=[12])],
         [constant(sid, 10, data_type="dir"), output(sid, 12)], "{}/11".format(sid)),
        # (A relative path is no submit error: the task fails when it runs, as in Rain 0.4.)
        ("open with a non-string path", [task(sid, 11, "buildin/open", outputs=[12],
                                              config={"path": 5})],
         [output(sid, 12)], "{}/11".format(sid)),
        ("export with a missing path", [task(sid, 11, "buildin/export", inputs=[10],
                                             config={})], [c10], "{}/11".format(sid)),
        ("make_directory with too few paths",
         [task(sid, 11, "buildin/make_directory", inputs=[10, 10], outputs=[12],
               config={"paths": ["a"]})], [c10, output(sid, 12, "dir")], "{}/11".format(sid)),
        ("make_directory with '..'",
         [task(sid, 11, "buildin/make_directory", inputs=[10], outputs=[12],
               config={"paths": ["../a"]})], [c10, output(sid, 12, "dir")], "{}/11".format(sid)),
        ("slice_directory of a blob",
         [task(sid, 11, "buildin/slice_directory", inputs=[10], outputs=[12],
               config={"path": "a"})], [c10, output(sid, 12)], "{}/11".format(sid)),
        ("slice_directory declared wrong",
         [task(sid, 11, "buildin/slice_directory", inputs=[10], outputs=[12],
               config={"path": "a/"})],
         [constant(sid, 10, data_type="dir"), output(sid, 12)], "{}/11".format(sid)),
        ("zero cpus", [task(sid, 11, inputs=[10], outputs=[12], cpus=0)],
         [c10, output(sid, 12)], "{}/11".format(sid)),
        ("fractional cpus", [task(sid, 11, inputs=[10], outputs=[12], cpus=1.5)],
         [c10, output(sid, 12)], "{}/11".format(sid)),
    ]


@pytest.mark.parametrize("case", range(len(invalid_graphs(1))),
                         ids=[c[0] for c in invalid_graphs(1)])
def test_invalid_submit_is_rejected_whole(client, case):
    with client.new_session() as session:
        sid = session.session_id
        name, tasks_json, objects, offending = invalid_graphs(sid)[case]
        with pytest.raises(RainException) as error:
            raw_submit(session, tasks_json, objects)
        assert error.value.kind == "InvalidGraph", name
        if offending:
            assert offending in str(error.value), name
        # Nothing was applied: the same ids are still free for a valid graph.
        t = tasks.Concat([blob(b"valid "), blob(b"after")])
        assert (t.id.id, t.inputs[0].id.id) == (12, 10)
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"valid after"


def test_inputs_not_kept_or_removed_in_an_earlier_submit(client):
    with client.new_session() as session:
        sid = session.session_id
        raw_submit(session, [task(sid, 11, inputs=[10], outputs=[12]),
                             task(sid, 15, "buildin/sleep", inputs=[10], outputs=[16],
                                  config={"seconds": 60})],
                   [constant(sid, 10), output(sid, 12, keep=True), output(sid, 16)])
        session.client._api.wait(sid, [11], [], "all")
        with pytest.raises(RainException, match="was not kept") as error:  # 16: not kept
            raw_submit(session, [task(sid, 13, inputs=[16], outputs=[14])], [output(sid, 14)])
        assert error.value.kind == "InvalidGraph" and "{}/16".format(sid) in str(error.value)
        session.client._api.unkeep(sid, [12])
        with pytest.raises(RainException, match="already removed") as error:  # 12 was unkept
            raw_submit(session, [task(sid, 13, inputs=[12], outputs=[14])], [output(sid, 14)])
        assert error.value.kind == "InvalidGraph" and "{}/12".format(sid) in str(error.value)


def test_submit_into_a_failed_session(client):
    with client.new_session() as session:
        tasks.Load("/nonexistent-rain-test-dir/x")
        session.submit()
        with pytest.raises(TaskException, match="cannot open '/nonexistent-rain-test-dir/x'"):
            session.wait_all()
        sid = session.session_id
        with pytest.raises(TaskException) as error:
            raw_submit(session, [], [constant(sid, 100)])
        assert error.value.kind == "SessionFailed"


def test_unknown_session(client):
    with pytest.raises(RainException) as error:
        client._api.wait_all(999999)
    assert error.value.kind == "NotFound"
