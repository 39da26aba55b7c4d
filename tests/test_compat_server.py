"""Rain 0.4 server behaviours: client constants outlive their first submit, and
get_server_info() lists each governor's part of the graph."""

from rain.client import blob, directory, pickled, tasks

from rain_testing import wait_until


def test_unkept_constants_stay_usable_in_later_submits(client, tmp_path):
    (tmp_path / "f.txt").write_bytes(b"in a dir")
    with client.new_session() as session:
        text = blob(b"abc")
        value = pickled({"k": 1})
        folder = directory(str(tmp_path))
        first = tasks.Concat([text, text])
        first.output.keep()
        session.submit()
        assert first.output.fetch().get_bytes() == b"abcabc"
        # Their governor copies may be gone by now; the server still has the data.
        second = tasks.Concat([text, value])
        sliced = tasks.SliceDirectory(folder, "f.txt")
        second.output.keep()
        sliced.output.keep()
        session.submit()
        session.wait_all()
        assert second.output.fetch().get_bytes() == b"abc" + value.data
        assert sliced.output.fetch().get_bytes() == b"in a dir"
        # Again, after the governors were told to delete their copies.
        assert wait_until(lambda: not any(text.id in g["objects"]
                                          for g in client.get_server_info()["governors"]))
        third = tasks.Concat([text])
        third.output.keep()
        session.submit()
        assert third.output.fetch().get_bytes() == b"abc"


def _holders(client, object_id):
    return [g["governor_id"] for g in client.get_server_info()["governors"]
            if object_id in g["objects"]]


def test_server_info_lists_outputs_of_assigned_tasks(client):
    with client.new_session() as session:
        sleeper = tasks.Sleep(blob(b"x"), 60)
        session.submit()
        assert wait_until(lambda: any(sleeper.id in g["tasks"]
                                      for g in client.get_server_info()["governors"]))
        (governor,) = [g for g in client.get_server_info()["governors"]
                       if sleeper.id in g["tasks"]]
        # The output is not produced yet, but it is part of that governor's graph; so is the
        # input it holds.
        assert sleeper.output.id in governor["objects"]
        assert sleeper.inputs[0].id in governor["objects"]
        assert _holders(client, sleeper.output.id) == [governor["governor_id"]]
