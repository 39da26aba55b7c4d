"""Starting and stopping a real Rain cluster (server + governors) for integration tests.

Every process started here is stopped by its pid (SIGTERM, then SIGKILL) and every temporary
directory is removed, also when a start fails half-way.
"""

import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT_PY = os.path.join(REPO, "client_py")
TESTS_DIR = os.path.join(REPO, "tests")
# The `rain` command under test; RAIN_TEST_BIN overrides the launcher of this tree.
RAIN_BIN = os.environ.get("RAIN_TEST_BIN", os.path.join(REPO, "rain"))
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0

if CLIENT_PY not in sys.path:
    sys.path.insert(0, CLIENT_PY)


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


#: Ports handed out by free_port, never handed twice.
_handed_ports = set()


def free_port():
    """A port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range: a port
    from that range (what binding to port 0 gives) can be taken as the local port of any outgoing
    connection before the server that was told to use it binds it."""
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        if port in _handed_ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_ports.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no output file)"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def remove_tree(path):
    """rmtree that also removes read-only directories (governors store objects read-only)."""
    def make_writable_and_retry(function, failed_path, _exc_info):
        parent = os.path.dirname(failed_path)
        for p in (parent, failed_path):
            try:
                os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)
            except OSError:
                pass
        function(failed_path)
    shutil.rmtree(path, onerror=make_writable_and_retry)


class Process:
    def __init__(self, name, args, out_path, env=None):
        self.name = name
        self.args = args
        self.out_path = out_path
        with open(out_path, "wb") as out:
            # A process group of its own: stopping it also stops whatever it started.
            self.popen = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=env, cwd=REPO,
                                          start_new_session=True)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def _signal_group(self, signal_number):
        try:
            os.killpg(self.popen.pid, signal_number)  # the group this process leads
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self):
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.popen.wait()
        self._signal_group(signal.SIGKILL)  # leftovers of the group, if any

    def describe(self):
        status = "running" if self.alive() else "exited with {}".format(self.popen.returncode)
        return "--- {} (pid {}, {}): {}\n{}".format(
            self.name, self.pid, status, " ".join(self.args), _tail(self.out_path))


def toml_string(text):
    """A TOML basic string (JSON string syntax is valid TOML)."""
    return json.dumps(text)


def executors_config(executors=None):
    """A governor TOML config: the ``py`` executor runs this interpreter (the client's: same
    cloudpickle) with this tree's ``rain`` package and the test modules importable, plus
    ``executors`` ({name: command string or list}).
    """
    entries = {"py": [sys.executable, "-m", "rain.executor"]}
    entries.update(executors or {})
    lines = []
    for name, command in entries.items():
        lines.append("[executors.{}]".format(name))
        if isinstance(command, str):
            lines.append("command = {}".format(toml_string(command)))
        else:
            lines.append("command = [{}]".format(", ".join(toml_string(c) for c in command)))
        if name == "py":
            lines.append("env = {{ PYTHONPATH = {} }}".format(
                toml_string(os.pathsep.join([CLIENT_PY, TESTS_DIR]))))
    return "\n".join(lines) + "\n"


class RainCluster:
    """A server with governors on loopback; ``governors`` lists each governor's cpus, or
    tuples ``(cpus, *extra_args)`` (e.g. ``(4, "--gpus", "0,1,2,3")``).

    Governors get a config (``executors_config``): the ``py`` executor runs this interpreter;
    ``executors`` adds executor types ({name: command}).
    """

    def __init__(self, governors=(2,), server_env=None, governor_env=None, executors=None,
                 server_args=()):
        self.governor_cpus = list(governors)
        self._server_args = list(server_args)
        self._executors = executors
        self.workspace = tempfile.mkdtemp(prefix="rain-test-")
        self.port = free_port()
        self.http_port = free_port()
        self.server = None
        self.governors = []
        self._clients = []
        self._server_env = dict(os.environ, **(server_env or {}))
        self._governor_env = dict(os.environ, **(governor_env or {}))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def governor_count(self):
        return len(self.governors)

    @property
    def address(self):
        return "127.0.0.1:{}".format(self.port)

    def path(self, *parts):
        return os.path.join(self.workspace, *parts)

    def _start_server(self, extra_args=()):
        ready = self.path("server.ready")
        if os.path.exists(ready):
            os.remove(ready)
        self._server_starts = getattr(self, "_server_starts", 0) + 1
        out = "server.out" if self._server_starts == 1 else "server-{}.out".format(
            self._server_starts)
        self.server = Process("server", [
            RAIN_BIN, "server", "--listen", self.address,
            "--http-listen", "127.0.0.1:{}".format(self.http_port),
            "--logdir", self.path("server-logs"), "--ready-file", ready,
        ] + self._server_args + list(extra_args), self.path(out), self._server_env)
        self._wait_ready([(self.server, ready)])

    def kill_server(self):
        """SIGKILL of the server (a crash: nothing of it runs any more)."""
        os.kill(self.server.pid, signal.SIGKILL)
        self.server.popen.wait()

    def restart_server(self, extra_args=()):
        """A server started again over the same log dir and address (after ``kill_server``)."""
        self._start_server(extra_args)

    def _start(self):
        self._start_server()
        config = self.path("governor.toml")
        with open(config, "w") as f:
            f.write(executors_config(self._executors))
        self._wait_ready([self._spawn_governor(cpus) for cpus in self.governor_cpus])

    def _spawn_governor(self, cpus):
        extra = []
        if isinstance(cpus, (tuple, list)):
            cpus, extra = cpus[0], [str(a) for a in cpus[1:]]
        index = len(self.governors)
        ready = self.path("governor-{}.ready".format(index))
        process = Process("governor-{}".format(index), [
            RAIN_BIN, "governor", self.address, "--cpus", str(cpus),
            "--listen", "127.0.0.1:0",
            "--workdir", self.path("governor-{}-work".format(index)),
            "--logdir", self.path("governor-{}-logs".format(index)),
            "--ready-file", ready, "--config", self.path("governor.toml"),
        ] + extra, self.path("governor-{}.out".format(index)), self._governor_env)
        self.governors.append(process)
        return process, ready

    def add_governor(self, cpus=1):
        """Starts one more governor (its own work dir) and waits until it is registered."""
        process, ready = self._spawn_governor(cpus)
        self._wait_ready([(process, ready)])
        return process

    def _wait_ready(self, waiting):
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            pending = [(p, f) for p, f in waiting if not os.path.exists(f)]
            if not pending:
                return
            dead = [p for p, _ in pending if not p.alive()]
            if dead or time.monotonic() > deadline:
                reason = "exited" if dead else "not ready after {} s".format(READY_TIMEOUT)
                raise RuntimeError("Rain cluster failed to start ({}):\n{}".format(
                    reason, "\n".join(p.describe() for p in self.all_processes())))
            time.sleep(0.05)

    def all_processes(self):
        return ([self.server] if self.server else []) + self.governors

    def client(self):
        """A new client connected to this cluster's server (closed at teardown)."""
        from rain.client import Client
        client = Client("127.0.0.1", self.port)
        self._clients.append(client)
        return client

    def governor_ids(self, client=None):
        info = (client or self.client()).get_server_info()
        return sorted(g["governor_id"] for g in info["governors"])

    def logs(self):
        return "\n".join(p.describe() for p in self.all_processes())

    def stop(self):
        for client in self._clients:
            try:
                client.close()
            except Exception:
                pass
        self._clients = []
        for process in reversed(self.all_processes()):
            process.stop()
        if os.path.isdir(self.workspace):
            remove_tree(self.workspace)


def event_rows(cluster, event_type):
    """The logged rows ({id, time, event}) of a type (POST /events on the monitoring port,
    docs/events.md)."""
    request = urllib.request.Request(
        "http://127.0.0.1:{}/events".format(cluster.http_port),
        data=json.dumps({"event_types": [{"value": event_type}]}).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def events_of_type(cluster, event_type):
    """The logged events of a type, without their rows' id and time."""
    return [row["event"] for row in event_rows(cluster, event_type)]


def subprocess_env():
    """Environment for a Python child process that imports this tree's `rain` package."""
    env = dict(os.environ)
    env["PYTHONPATH"] = CLIENT_PY + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    return env


def wait_until(condition, timeout=10.0):
    """Polls ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


class Gate:
    """A condition the test controls, for tasks that must run until the test lets them end
    (instead of sleeps long enough "for sure"). ``task(name)`` is a ``tasks.Execute`` that marks
    itself started (``started(name)``), then runs until ``open()``; its stdout is ``b"done"``. A
    task still waiting after about a minute fails, so nothing outlives a broken test."""

    SCRIPT = ('touch "$1"; i=0; while [ ! -e "$2" ] && [ $i -lt 6000 ]; do sleep 0.01; '
              'i=$((i + 1)); done; [ -e "$2" ] && printf done')

    def __init__(self, directory):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self._open = os.path.join(self.directory, "open")

    def _marker(self, name):
        return os.path.join(self.directory, name + ".started")

    def task(self, name, cpus=1, **kwargs):
        from rain.client import tasks
        return tasks.Execute(["sh", "-c", self.SCRIPT, "gate", self._marker(name), self._open],
                             stdout=True, cpus=cpus, **kwargs)

    def started(self, name):
        return os.path.exists(self._marker(name))

    def started_count(self):
        return sum(1 for n in os.listdir(self.directory) if n.endswith(".started"))

    def open(self):
        with open(self._open, "w"):
            pass


def task_interval(task):
    """(start, end) of a finished task in seconds since the epoch, from its reported info
    (``start_time`` + ``duration``); call ``task.update()`` first."""
    import datetime
    start = datetime.datetime.fromisoformat(task.info.start_time.replace("Z", "+00:00"))
    return start.timestamp(), start.timestamp() + task.info.duration


def max_cpus_in_use(tasks_and_cpus, tolerance=0.005):
    """The most cpus one governor had in use at once, from the reported intervals of
    ``[(task, cpus), ...]`` (updated). ``start_time`` has millisecond resolution, so intervals
    touching within ``tolerance`` seconds do not count as overlapping."""
    events = []
    for task, cpus in tasks_and_cpus:
        start, end = task_interval(task)
        events.append((task.info.governor, start + tolerance, cpus))
        events.append((task.info.governor, end, -cpus))
    used, most = {}, {}
    # Ends before starts at the same instant.
    for governor, _, delta in sorted(events, key=lambda e: (e[1], e[2])):
        used[governor] = used.get(governor, 0) + delta
        most[governor] = max(most.get(governor, 0), used[governor])
    return max(most.values(), default=0)
