"""The direct path of client fetches (server/direct_fetch.ts): a fetch that is the first request
of its connection and carries the secret is answered on the accepted connection with a
content-length and `connection: close`; everything else (no or wrong secret, directories,
errors, a fetch on a kept-alive connection) goes to the HTTP route as before, with the same
answers. The answer's framing (content-length vs chunked) tells which path served it."""

import http.client
import json
import os
import struct

from rain.client import blob, directory, tasks

LARGE = (3 << 20) + 7  # above the direct path's small-object limit
SMALL = 1000


def secret_of(cluster):
    path = os.path.expanduser("~/.rain/secrets/127.0.0.1_{}".format(cluster.port))
    with open(path) as f:
        return f.read().strip()


def get(port, path, headers, before=None):
    """GET `path` on a new connection (after the request `before` on it, if given)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        if before is not None:
            conn.request("GET", before, headers=headers)
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 200 and not answer.will_close
        conn.request("GET", path, headers=headers)
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


def object_path(session, obj):
    return "/api/v1/sessions/{}/objects/{}/data".format(session.session_id, obj.id.id)


def split_fetch(body):
    """(FetchHeader, data) of a fetch answer body (common/framing.ts)."""
    (length,) = struct.unpack(">I", body[:4])
    return json.loads(body[4:4 + length]), body[4 + length:]


def served_direct(headers):
    return ("content-length" in headers and headers.get("connection") == "close"
            and "transfer-encoding" not in headers)


def test_direct_fetches_keep_the_secret_check_and_the_routes_answers(rain_cluster, tmp_path):
    cluster = rain_cluster(governors=[1, 1])
    client = cluster.client()
    secret = secret_of(cluster)
    auth = {"Authorization": "Bearer " + secret}
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "file").write_bytes(b"in a directory")
    with client.new_session() as session:
        large = tasks.Execute("head -c {} /dev/zero | tr '\\0' L".format(LARGE), shell=True,
                              stdout=True).output
        small = tasks.Execute("printf small", shell=True, stdout=True).output
        constant = blob(b"C" * LARGE)  # spooled to a file on the server
        folder = directory(path=str(tmp_path / "dir"))
        unkept = tasks.Execute("printf unkept", shell=True, stdout=True).output
        for obj in (large, small, constant, folder):
            obj.keep()
        session.submit()
        session.wait_all()

        # Blobs, from a governor (large: streamed; small: read whole) and a server file.
        for obj, data in ((large, b"L" * LARGE), (small, b"small"), (constant, b"C" * LARGE)):
            status, headers, body = get(cluster.port, object_path(session, obj), auth)
            assert status == 200 and served_direct(headers), headers
            assert headers["content-type"] == "application/x-rain-object"
            header, got = split_fetch(body)
            assert int(headers["content-length"]) == len(body)
            assert (header["id"], header["size"], header["data_type"]) == \
                (obj.id.id, len(data), "blob")
            assert got == data
            # The same fetch as a later request of a kept-alive connection: the route answers.
            status, headers, relayed = get(cluster.port, object_path(session, obj), auth,
                                           before="/api/v1/server_info")
            assert status == 200 and not served_direct(headers), headers
            assert relayed == body

        # A directory falls back to the route: a tar stream.
        status, headers, body = get(cluster.port, object_path(session, folder), auth)
        assert status == 200 and not served_direct(headers), headers
        header, _ = split_fetch(body)
        assert header["data_type"] == "dir"
        fetched = folder.fetch(path=str(tmp_path / "fetched"))
        assert (tmp_path / "fetched" / "file").read_bytes() == b"in a directory"
        assert fetched.data_type.value == "dir"

        # Without the secret in the header, nothing is served: the route answers 401.
        target = object_path(session, large)
        for refused in ({}, {"Authorization": "Bearer wrong"},
                        {"Cookie": "rain_token=" + secret}):
            status, headers, body = get(cluster.port, target, refused)
            assert status == 401, (refused, status)
            assert json.loads(body)["error"]["kind"] == "Unauthorized"
        status, _, body = get(cluster.port, target + "?token=" + secret, {})
        assert status == 401

        # Errors are the route's.
        status, _, body = get(cluster.port, object_path(session, unkept), auth)
        assert status >= 400 and json.loads(body)["error"]["kind"] == "NotAvailable"
        missing = "/api/v1/sessions/{}/objects/999999/data".format(session.session_id)
        status, _, body = get(cluster.port, missing, auth)
        assert status == 404 and json.loads(body)["error"]["kind"] == "NotFound"

        # The Python client gets the same bytes either way, fetch after fetch.
        for _ in range(3):
            assert large.fetch().get_bytes() == b"L" * LARGE
            assert small.fetch().get_bytes() == b"small"
            assert constant.fetch().get_bytes() == b"C" * LARGE
        large.fetch(path=str(tmp_path / "large"))
        assert (tmp_path / "large").read_bytes() == b"L" * LARGE
        assert client.get_server_info()["governors"]


def test_a_direct_fetch_sent_before_its_object_is_finished_waits_for_it(rain_cluster, tmp_path):
    cluster = rain_cluster(governors=[1])
    client = cluster.client()
    gate = tmp_path / "go"
    with client.new_session() as session:
        task = tasks.Execute("while [ ! -e {} ]; do sleep 0.02; done; head -c {} /dev/zero"
                             .format(gate, LARGE), shell=True, stdout=True)
        task.output.keep()
        session.submit()
        conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=60)
        try:
            # Sent while the task cannot finish (its gate is closed); answered once it has.
            conn.request("GET", object_path(session, task.output),
                         headers={"Authorization": "Bearer " + secret_of(cluster)})
            gate.touch()
            res = conn.getresponse()
            headers = {k.lower(): v for k, v in res.getheaders()}
            assert res.status == 200 and served_direct(headers), headers
            header, data = split_fetch(res.read())
        finally:
            conn.close()
        assert header["size"] == LARGE and data == b"\0" * LARGE


def test_fetch_to_a_path_writes_every_kind_of_answer_whole(rain_cluster, tmp_path, monkeypatch):
    """fetch(path=) reads a plain body past http.client (spliced, or received into a buffer
    where splice is missing) and a chunked one (the route's answer) through it."""
    from rain.client.rpc import body_to_file
    cluster = rain_cluster(governors=[1])
    client = cluster.client()
    expected = bytes(range(256)) * ((LARGE // 256) + 1)
    with client.new_session() as session:
        large = tasks.Execute("head -c {} /dev/urandom".format(LARGE), shell=True,
                              stdout=True).output
        small = blob(b"held by the server")  # answered by the route, chunked
        patterned = blob(expected)
        for obj in (large, small, patterned):
            obj.keep()
        session.submit()
        session.wait_all()
        data = large.fetch().get_bytes()
        assert len(data) == LARGE

        large.fetch(path=str(tmp_path / "spliced"))
        assert (tmp_path / "spliced").read_bytes() == data
        small.fetch(path=str(tmp_path / "small"))
        assert (tmp_path / "small").read_bytes() == b"held by the server"
        patterned.fetch(path=str(tmp_path / "patterned"))
        assert (tmp_path / "patterned").read_bytes() == expected

        monkeypatch.delattr(body_to_file.os, "splice", raising=False)
        large.fetch(path=str(tmp_path / "received"))
        assert (tmp_path / "received").read_bytes() == data
