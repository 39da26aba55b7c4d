"""The executor loop: connect to the governor, register, answer calls one at a time.

``serve(methods)`` runs an executor whose task types are ``<executor>/<method>`` for every key
of ``methods``; a method is called as ``method(ctx)`` and returns its outputs (see
``rain.executor.outputs``). ``python3 -m rain.executor`` serves the Python tasks of
``@remote`` (method "", task type ``py/``).
"""

# The executor's parts share the context's underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Generator, Mapping
from typing import Any

from ..common.attributes import ObjectInfo, ObjectSpec
from ..common.data_instance import DataInstance
from ..common.data_type import DataType
from ..common.errors import RainException
from .._version import __version__
from .context import Context
from .framing import Buffer, Connection, Message
from .outputs import encode_output, split_outputs
from .task_output import redirected_output

PROTOCOL_VERSION = 1

# A method of an executor: called with the task's context, returns its outputs.
Method = Callable[[Context], Any]


class TaskError(Exception):
    """A task failure whose message is already complete (no traceback is added).
    ``exception_types``: those of the exception it stands for (see ``exception_types()``)."""

    exception_types: list[str] | None = None


def exception_types(e: BaseException) -> list[str]:
    """Class names of ``e``: its class and bases, most specific first (``policy.retry_on``)."""
    if isinstance(e, TaskError) and e.exception_types is not None:
        return e.exception_types
    return [c.__name__ for c in type(e).__mro__ if c is not object]


def _watch_parent(parent: int) -> None:
    """Exits when the governor (our parent) is gone, even in the middle of a long task."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


class Executor:
    """One connection to the governor and the state kept across calls."""

    def __init__(self, methods: Mapping[str, Method], executor_type: str | None = None) -> None:
        self.methods = dict(methods)
        env = os.environ
        try:
            self.socket_path = env["RAIN_EXECUTOR_SOCKET"]
            self.executor_id = env["RAIN_EXECUTOR_ID"]
        except KeyError as e:
            raise SystemExit(f"rain.executor: {e.args[0]} is not set; executors are started by "
                             "a Rain governor")
        self.executor_type = executor_type or env.get("RAIN_EXECUTOR_TYPE", "")
        # The executor's directory holds the tasks' working directory and, beside it, the
        # staging directory: staged outputs leave the working directory at once, by a rename.
        base_dir = os.path.abspath(env.get("RAIN_EXECUTOR_WORK_DIR") or os.getcwd())
        self.work_dir = os.path.join(base_dir, "task")
        self.staging_dir = os.path.join(base_dir, ".staged")
        self.governor_id = env.get("RAIN_GOVERNOR_ID")
        # Objects kept for later calls: (session, id) -> value (e.g. an unpickled function).
        self.kept: dict[tuple[int, int], Any] = {}
        self.conn: Connection | None = None

    def connect(self) -> Connection:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.socket_path)
        self.conn = conn = Connection(sock)
        conn.send({
            "type": "register",
            "protocol_version": PROTOCOL_VERSION,
            "executor_id": self.executor_id,
            "executor_type": self.executor_type,
            "pid": os.getpid(),
            "library": f"rain-python {__version__}",
        })
        return conn

    def run(self) -> None:
        conn = self.connect()
        threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
        while True:
            frame = conn.read()
            if frame is None:
                return
            message, parts = frame
            kind = message["type"]
            if kind == "call":
                with redirected_output(message.get("output")):
                    answer, answer_parts = self.handle_call(message, parts)
                conn.send(answer, answer_parts)
            elif kind == "drop_session":
                session = message["session"]
                for key in [k for k in self.kept if k[0] == session]:
                    del self.kept[key]
            else:
                print(f"rain.executor: ignoring unknown message {kind!r}", file=sys.stderr)

    def _clean_work_dir(self) -> None:
        """Every call starts in an empty working directory: what the previous task left there
        is removed, and so is what it staged but did not return (the governor moved the
        returned outputs into its storage before this call). The directories are made only
        when missing (first call, or a task removed them): no mkdir per call."""
        work_dir = self.work_dir
        for directory in (work_dir, self.staging_dir):
            try:
                with os.scandir(directory) as entries:
                    leftovers = list(entries)
            except FileNotFoundError:
                os.makedirs(directory, exist_ok=True)
                continue
            for entry in leftovers:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, onerror=_make_writable_and_retry)
                else:
                    os.unlink(entry.path)
        try:
            if os.getcwd() != work_dir:
                os.chdir(work_dir)
        except FileNotFoundError:
            os.chdir(work_dir)

    def _inputs(self, call: Message, parts: list[memoryview]) -> list[Any]:
        inputs: list[DataInstance | _Cached] = []
        for entry in call["inputs"]:
            spec = ObjectSpec.from_json(entry["spec"])
            info = entry.get("info")
            # Always an info, so that the task may fill ``info.user`` of an input it returns.
            info = ObjectInfo.from_json(info) if info else ObjectInfo()
            instance: DataInstance | _Cached
            if "part" in entry:
                instance = DataInstance(parts[entry["part"]], spec=spec, info=info)
            elif "path" in entry:
                instance = DataInstance(path=entry["path"], spec=spec, info=info)
            else:
                # Cached: the value kept earlier stands in for the data.
                instance = _Cached(spec, info)
            inputs.append(instance)
        return inputs

    def handle_call(self, call: Message, parts: list[memoryview]) -> tuple[Message, list[Any]]:
        """Runs one call; returns the answer message and its binary parts."""
        task = call["spec"]["id"]
        self._clean_work_dir()
        ctx = Context(call, self._inputs(call, parts), self.governor_id, self.work_dir,
                      self.staging_dir)
        ctx._executor = self
        ctx._keep = []
        try:
            method = self.methods.get(call["method"])
            if method is None:
                known = ", ".join(repr(m) for m in sorted(self.methods)) or "none"
                raise TaskError(f"executor {self.executor_type!r} has no method "
                                f"{call['method']!r} (it has: {known})")
            with _call_env(ctx.resources, ctx.attempt):
                value = method(ctx)
            answer_parts: list[Buffer] = []
            try:
                outputs = self._outputs(ctx, call, value, answer_parts)
            except RainException as e:
                raise TaskError(str(e)) from None
            except Exception as e:
                raise TaskError(f"cannot encode the result: {type(e).__name__}: {e}") from None
        except BaseException as e:  # noqa: B902 - a task may raise anything, even SystemExit
            if isinstance(e, KeyboardInterrupt):
                raise
            answer: Message = {"type": "failed", "task": task, "error": _describe_error(e),
                      "exception_types": exception_types(e)}
            self._add_info(answer, ctx)
            return answer, []
        answer = {"type": "result", "task": task, "outputs": outputs}
        self._add_info(answer, ctx)
        return answer, answer_parts

    def _outputs(self, ctx: Context, call: Message, value: Any,
                 parts: list[Any]) -> list[dict[str, Any]]:
        specs = call["outputs"]
        values = split_outputs(value, specs)
        encode = ctx._encode
        input_index = {id(instance): i for i, instance in enumerate(ctx.inputs)} \
            if any(isinstance(v, DataInstance) for v in values) else {}
        return [encode_output(i, v, specs[i], encode[i] if encode else None, input_index, parts)
                for i, v in enumerate(values)]

    def _add_info(self, answer: Message, ctx: Context) -> None:
        if ctx._keep:
            answer["keep"] = ctx._keep
        info: dict[str, Any] = {}
        if ctx._debug:
            info["debug"] = ctx.debug_text
        if ctx.info.user:
            info["user"] = ctx.info.user
        if info:
            answer["info"] = info


class _Cached:
    """Placeholder of an input the executor kept (its value is in ``Executor.kept``)."""

    def __init__(self, spec: ObjectSpec, info: ObjectInfo) -> None:
        self.spec = spec
        self.info = info
        self.data_type = spec.data_type if spec is not None else DataType.BLOB


def _make_writable_and_retry(function: Callable[[str], object], path: str,
                             _exc_info: object) -> None:
    for p in (os.path.dirname(path), path):
        try:
            os.chmod(p, 0o700)
        except OSError:
            pass
    function(path)


def _describe_error(e: BaseException) -> str:
    if isinstance(e, TaskError):
        return str(e)
    tb = e.__traceback__
    # Skip the executor's own frame: the traceback starts in the method.
    if tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(e), e, tb)).rstrip()


def serve(methods: Mapping[str, Method], executor_type: str | None = None) -> None:
    """Runs an executor serving ``methods`` ({method name: function(ctx)}) until the governor
    closes the connection."""
    Executor(methods, executor_type).run()


# The environment of the last call's resources (calls of a session mostly ask the same).
_last_env: tuple[dict[str, Any], dict[str, str]] | None = None


def _resource_env(resources: Mapping[str, Any]) -> dict[str, str]:
    """What a call's resources put in its environment (as programs get them):
    ``CUDA_VISIBLE_DEVICES`` + ``CUDA_DEVICE_ORDER`` (or ``ROCR_VISIBLE_DEVICES``),
    ``OMP_NUM_THREADS``, ``RAIN_RESOURCES``."""
    global _last_env
    if _last_env is not None and _last_env[0] == resources:
        return _last_env[1]
    env = {"OMP_NUM_THREADS": str(resources.get("cpus", 1)),
           "RAIN_RESOURCES": json.dumps(resources, separators=(",", ":"))}
    devices = ",".join(resources.get("gpus") or [])
    if resources.get("gpu_kind") == "rocm":
        env["ROCR_VISIBLE_DEVICES"] = devices
    else:
        env["CUDA_VISIBLE_DEVICES"] = devices
        env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    _last_env = (dict(resources), env)
    return env


@contextlib.contextmanager
def _call_env(resources: Mapping[str, Any], attempt: int) -> Generator[None, None, None]:
    """The task's resources (``_resource_env``) and ``RAIN_TASK_ATTEMPT`` (1 the first time;
    retries count up) in the environment during the call; the previous values come back
    afterwards."""
    env = {**_resource_env(resources), "RAIN_TASK_ATTEMPT": str(attempt)}
    environ = os.environ
    saved = {name: environ.get(name) for name in env}
    for name, value in env.items():
        if saved[name] != value:
            environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                environ.pop(name, None)
            elif environ.get(name) != value:
                environ[name] = value
