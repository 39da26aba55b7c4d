"""`rain start --governor-host-file` on several hosts: network namespaces with their own addresses
and a private sshd each (tests/netns_hosts.py). Host 0 runs `rain start` (server and launching
ssh), hosts 0-2 run governors, host 3 is a machine without rain. Every client runs inside a
namespace: no traffic leaves them.
"""

import json
import os
import textwrap

import pytest

import netns_hosts
from rain_testing import CLIENT_PY, RAIN_BIN, wait_until

why_not = netns_hosts.available()
pytestmark = pytest.mark.skipif(why_not is not None, reason=str(why_not))

PORT = 7210
HTTP_PORT = 7222
REFUSING = netns_hosts.SUBNET + ".9"  # an address of host 2 where no sshd listens


@pytest.fixture(scope="module")
def hosts():
    h = netns_hosts.NetnsHosts(4, without_rain=[3])
    try:
        h.run(2, ["ip", "addr", "add", REFUSING + "/24", "dev", "eth0"]).check_returncode()
        yield h
    finally:
        h.close()


def env(hosts, **extra):
    e = dict(os.environ, NO_COLOR="1", RAIN_SSH=" ".join(hosts.ssh()),
             RAIN_START_TIMEOUT="60", PYTHONPATH=CLIENT_PY)
    e.update(extra)
    return e


def start(hosts, host_list, *options, **env_extra):
    hostfile = hosts.path("hosts-{}".format(abs(hash(tuple(host_list)))))
    with open(hostfile, "w") as f:
        f.write("# governors\n\n" + "\n".join(host_list) + "  # the last one\n")
    logdir = hosts.path("logs-{}".format(len(os.listdir(hosts.workspace))))
    result = hosts.run(0, [
        RAIN_BIN, "start", "--governor-host-file", hostfile,
        "--listen", "{}:{}".format(hosts.address(0), PORT),
        "--http-listen", "{}:{}".format(hosts.address(0), HTTP_PORT),
        "--logdir", logdir, "--workdir", os.path.join(logdir, "work"),
    ] + list(options), env=env(hosts, **env_extra))
    return result, logdir


def processes_of(logdir):
    """Pids of processes (any namespace) whose command line names ``logdir``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/{}/cmdline".format(entry), "rb") as f:
                    if logdir.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def no_leftovers(hosts, logdir):
    return wait_until(lambda: not processes_of(logdir) and not hosts.leftovers(), timeout=20)


CLIENT = textwrap.dedent("""
    import json, sys
    from rain.client import Client, tasks, blob
    from rain.common import RainException
    host, port = sys.argv[1], int(sys.argv[2])
    try:
        Client(host, port, secret="not-the-secret-at-all")
        wrong = "accepted"
    except RainException as e:
        wrong = str(e)
    client = Client(host, port)
    info = client.get_server_info()["governors"]
    governors = sorted(g["governor_id"] for g in info)
    cpus = {g["governor_id"]: g["resources"]["cpus"] for g in info}
    with client.new_session() as session:
        parts = []
        for i, governor in enumerate(governors):
            # Part 0 is large: governors fetch it from the server (GET /api/v1/constants).
            data = (b"x" * 400000 if i == 0 else b"") + b"part %d;" % i
            obj = blob(data)
            obj.spec.user["_testing"] = {"governors": [governor], "size": 1 << 20}
            parts.append(tasks.Sleep(obj, 0))
        joined = tasks.Concat(parts)
        joined.output.keep()
        session.submit()
        result = joined.output.fetch().get_bytes()
        session.update(parts + [joined])
        print(json.dumps({"wrong": wrong, "governors": governors, "cpus": cpus,
                          "size": len(result), "tail": result[-21:].decode(),
                          "ran_on": [p.info.governor for p in parts],
                          "joined_on": joined.info.governor}))
""")


def test_cluster_over_ssh_runs_a_pipeline_and_stops_completely(hosts):
    addresses = [hosts.address(i) for i in range(3)]
    started, logdir = start(hosts, addresses, "-S", RAIN_TEST_MODE="1")
    try:
        assert started.returncode == 0, started.stderr
        assert "3 governors on {}".format(", ".join(addresses)) in started.stdout
        secret_file = os.path.join(os.path.expanduser("~"), ".rain", "secrets",
                                   "{}_{}".format(addresses[0], PORT))
        with open(secret_file) as f:
            secret = f.read().strip()
        # The secret is on no command line, on any "host".
        for pid in processes_of(logdir):
            with open("/proc/{}/cmdline".format(pid), "rb") as f:
                assert secret.encode() not in f.read()

        script = hosts.path("client.py")
        with open(script, "w") as f:
            f.write(CLIENT)
        # A client on another machine: it has no published secret and must be given one.
        elsewhere = env(hosts, RAIN_SECRETS_DIR=hosts.path("no-secrets"))
        refused = hosts.run(1, ["/usr/bin/python3", script, addresses[0], str(PORT)],
                            env=elsewhere)
        assert refused.returncode != 0
        assert "requires its cluster secret" in refused.stderr
        elsewhere["RAIN_SECRET"] = secret
        ran = hosts.run(1, ["/usr/bin/python3", script, addresses[0], str(PORT)], env=elsewhere)
        assert ran.returncode == 0, ran.stderr
        out = json.loads(ran.stdout)
        assert out["wrong"].startswith("wrong cluster secret")
        assert sorted(g.split(":")[0] for g in out["governors"]) == addresses
        assert out["size"] == 400000 + len("part 0;part 1;part 2;")
        assert out["tail"] == "part 0;part 1;part 2;"
        # Each part ran on its own host; the join fetched the other two from its peers.
        assert out["ran_on"] == out["governors"]
        assert out["joined_on"] in out["governors"]
        # -S: the governor on the server's host offers one cpu less than the others.
        by_host = {g.split(":")[0]: n for g, n in out["cpus"].items()}
        assert by_host[addresses[0]] == by_host[addresses[1]] - 1 or by_host[addresses[1]] == 1

        # A governor goes when its launching ssh goes (no orphan on the remote host).
        ssh_pids = [pid for pid in hosts.pids(0) if pid in processes_of(logdir)
                    and b"ssh" in open("/proc/{}/cmdline".format(pid), "rb").read()[:40]]
        assert len(ssh_pids) == 3
        def governor_on(i):
            return [pid for pid in hosts.pids(i) if pid in processes_of(logdir)]
        assert governor_on(2)
        target = [p for p in ssh_pids
                  if addresses[2].encode() in open("/proc/{}/cmdline".format(p), "rb").read()]
        os.kill(target[0], 9)
        assert wait_until(lambda: not governor_on(2), timeout=20)

        stopped = hosts.run(0, [RAIN_BIN, "stop", "{}:{}".format(addresses[0], PORT)],
                            env=env(hosts))
        assert stopped.returncode == 0, stopped.stderr
        assert "and 2 governors" in stopped.stdout
        assert no_leftovers(hosts, logdir), (processes_of(logdir), hosts.leftovers())
        assert not os.path.exists(secret_file)
    finally:
        hosts.run(0, [RAIN_BIN, "stop", "{}:{}".format(addresses[0], PORT)], env=env(hosts))


def test_unreachable_host_is_named_and_the_rest_is_stopped(hosts):
    started, logdir = start(hosts, [hosts.address(1), REFUSING])
    assert started.returncode == 1
    err = started.stderr
    assert "governor 1 on {}".format(REFUSING) in err
    assert "host {} cannot be reached with ssh (exit code 255)".format(REFUSING) in err
    assert "Connection refused" in err
    assert "stopping what was started: server" in err
    assert no_leftovers(hosts, logdir), (processes_of(logdir), hosts.leftovers())


def test_host_without_rain_is_named(hosts):
    started, logdir = start(hosts, [hosts.address(1), hosts.address(3)])
    assert started.returncode == 1
    err = started.stderr
    assert "rain is missing on host {} (exit code 127)".format(hosts.address(3)) in err
    assert "does not exist on host" in err
    assert "rain must be installed at the same path on every host" in err
    assert no_leftovers(hosts, logdir), (processes_of(logdir), hosts.leftovers())


def test_governor_that_exits_is_reported_with_its_log(hosts):
    config = hosts.path("bad.toml")
    with open(config, "w") as f:
        f.write("[executors\n")
    started, logdir = start(hosts, [hosts.address(2)], "--governor-config", config,
                            "--remote-init", "echo init ran on the host >&2")
    assert started.returncode == 1
    err = started.stderr
    assert "the governor on host {} exited (exit code 1)".format(hosts.address(2)) in err
    assert "init ran on the host" in err
    assert "not valid TOML" in err
    assert no_leftovers(hosts, logdir), (processes_of(logdir), hosts.leftovers())


def start_autoconf(hosts, kind, **env_extra):
    logdir = hosts.path("logs-{}".format(len(os.listdir(hosts.workspace))))
    result = hosts.run(0, [
        RAIN_BIN, "start", "--autoconf=" + kind,
        "--listen", "{}:{}".format(hosts.address(0), PORT),
        "--http-listen", "{}:{}".format(hosts.address(0), HTTP_PORT), "--logdir", logdir,
    ], env=env(hosts, **env_extra))
    return result, logdir


def stop(hosts):
    return hosts.run(0, [RAIN_BIN, "stop", "{}:{}".format(hosts.address(0), PORT)],
                     env=env(hosts))


@pytest.mark.parametrize("kind", ["pbs", "slurm"])
def test_autoconf_starts_a_governor_per_node(hosts, kind):
    nodes = [hosts.address(1), hosts.address(2)]
    if kind == "pbs":
        nodefile = hosts.path("pbs-nodes")
        with open(nodefile, "w") as f:
            f.write("\n".join([nodes[0], nodes[0], nodes[1], nodes[1]]) + "\n")
        extra = {"PBS_NODEFILE": nodefile}
    else:
        # A compressed node list; no srun on PATH here, so governors start over ssh.
        extra = {"SLURM_JOB_NODELIST": netns_hosts.SUBNET + ".[2-3]"}
    started, logdir = start_autoconf(hosts, kind, **extra)
    try:
        assert started.returncode == 0, started.stderr
        assert "2 governors on {}, {}".format(*nodes) in started.stdout
        stopped = stop(hosts)
        assert stopped.returncode == 0, stopped.stderr
        assert "and 2 governors" in stopped.stdout
        assert no_leftovers(hosts, logdir), (processes_of(logdir), hosts.leftovers())
    finally:
        stop(hosts)
