"""Built-in tasks, run by the governor itself (executor "buildin").

Configs are exactly those of common/builtin_tasks.ts; Execute builds a ``buildin/run`` task.
Every task also takes the policy keywords of ``Task`` (``max_retries``, ``retry_on``,
``time_limit``, ``crash_limit``; docs/policies.md).
"""

from __future__ import annotations

import copy
import numbers
import os
import secrets
import shlex
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union, cast

from ..common.content_type import is_subtype
from ..common.data_type import DataType
from ..common.dir_archive import StrPath
from ..common.errors import RainException
from .data import DataLike, DataObject, to_dataobj
from .input import Input, InputBase, InputDir
from .output import Output, OutputBase, OutputDir
from .task import Task

if TYPE_CHECKING:
    from .session import Session

# An argument of Execute: a str (or a number), a data object or task (mapped to a file), an
# Input, or an Output (its path goes to argv).
ExecuteArg = Union[str, int, float, DataLike, InputBase, OutputBase]
# Where Execute's stdout goes: True (an output "stdout"), a label, or an Output.
Stdout = Union[bool, str, OutputBase, None]


def _governor_path(path: object, task_name: str) -> str:
    """A path on the governor (a str or path-like). It must be absolute, but as in Rain 0.4 that
    is checked when the task runs: a relative path fails the task with a TaskException naming
    the path."""
    if isinstance(path, os.PathLike):
        path = os.fspath(cast("os.PathLike[str]", path))
    if not isinstance(path, str):
        raise RainException(f"{task_name} needs a path, not {path!r}")
    return path


def _relative_path(path: object, task_name: str) -> str:
    if not isinstance(path, str) or path == "":
        raise RainException(f"{task_name} needs a non-empty relative path, not {path!r}")
    if path.startswith("/"):
        raise RainException(f"{task_name}: path {path!r} must be relative")
    if ".." in path.split("/"):
        raise RainException(f"{task_name}: path {path!r} must not contain '..'")
    return path


class Concat(Task):
    """Concatenates blobs into one blob."""

    TASK_TYPE = "buildin/concat"

    def __init__(self, inputs: Iterable[DataLike], *, name: str | None = None,
                 session: Session | None = None, **policy: Any) -> None:
        objects = [i if type(i) is DataObject else to_dataobj(i) for i in inputs]
        for obj in objects:
            if obj.data_type is not DataType.BLOB:
                raise RainException(f"Concat takes blobs, but {obj} is a directory")
        super().__init__(objects, 1, name=name, session=session, **policy)


def _is_finite_seconds(value: object) -> bool:
    """A real number >= 0 and finite, not a bool (True is not a duration)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    seconds = float(value)
    return seconds >= 0 and seconds != float("inf")


class Sleep(Task):
    """Passes its input on after ``seconds``; the output keeps the input's data and content
    type."""

    TASK_TYPE = "buildin/sleep"

    def __init__(self, input: DataLike, seconds: float, cpus: int = 1, *,
                 name: str | None = None, session: Session | None = None,
                 memory: int | str | None = None, gpus: float | None = None,
                 resources: Mapping[str, float] | None = None, **policy: Any) -> None:
        obj = to_dataobj(input)
        if not _is_finite_seconds(seconds):
            raise RainException(f"Sleep needs a number of seconds >= 0, not {seconds!r}")
        output: OutputBase
        output = Output(content_type=obj.spec.content_type) \
            if obj.data_type == DataType.BLOB else OutputDir()
        super().__init__((obj,), (output,), config={"seconds": seconds}, cpus=cpus, name=name,
                         session=session, memory=memory, gpus=gpus, resources=resources,
                         **policy)


class Load(Task):
    """Reads a file (absolute path, on the governor) into a blob."""

    TASK_TYPE = "buildin/open"

    def __init__(self, path: StrPath, *, content_type: str | None = None,
                 name: str | None = None, session: Session | None = None,
                 **policy: Any) -> None:
        config = {"path": _governor_path(path, "Load")}
        super().__init__((), (Output(content_type=content_type),), config=config, name=name,
                         session=session, **policy)


class LoadDir(Task):
    """Reads a directory (absolute path, on the governor) into a directory object."""

    TASK_TYPE = "buildin/open_dir"

    def __init__(self, path: StrPath, *, name: str | None = None,
                 session: Session | None = None, **policy: Any) -> None:
        config = {"path": _governor_path(path, "LoadDir")}
        super().__init__((), (OutputDir(),), config=config, name=name, session=session,
                         **policy)


class Store(Task):
    """Writes an object to an absolute path on the governor's file system."""

    TASK_TYPE = "buildin/export"

    def __init__(self, input: DataLike, path: StrPath, *, name: str | None = None,
                 session: Session | None = None, **policy: Any) -> None:
        config = {"path": _governor_path(path, "Store")}
        super().__init__((to_dataobj(input),), 0, config=config, name=name, session=session,
                         **policy)


class MakeDirectory(Task):
    """Builds a directory from objects: pairs ``(relative path, object)`` or a dict."""

    TASK_TYPE = "buildin/make_directory"

    def __init__(self, paths_objects: dict[str, DataLike] | Iterable[tuple[str, DataLike]],
                 *, name: str | None = None, session: Session | None = None,
                 **policy: Any) -> None:
        pairs: Iterable[tuple[str, DataLike]]
        if isinstance(paths_objects, dict):
            pairs = cast("dict[str, DataLike]", paths_objects).items()
        else:
            pairs = paths_objects
        paths: list[str] = []
        objects: list[DataObject] = []
        for path, obj in pairs:
            paths.append(_relative_path(path, "MakeDirectory"))
            objects.append(to_dataobj(obj))
        super().__init__(objects, (OutputDir(),), config={"paths": paths}, name=name,
                         session=session, **policy)


class SliceDirectory(Task):
    """Takes a file (a blob) or, for a path ending in "/", a subdirectory out of a directory."""

    TASK_TYPE = "buildin/slice_directory"

    def __init__(self, input: DataLike, path: str, *, content_type: str | None = None,
                 name: str | None = None, session: Session | None = None,
                 **policy: Any) -> None:
        obj = to_dataobj(input)
        if obj.data_type != DataType.DIRECTORY:
            raise RainException(f"SliceDirectory takes a directory, but {obj} is a blob")
        _relative_path(path, "SliceDirectory")
        output: OutputBase
        if path.endswith("/"):
            if content_type:
                raise RainException("a directory has no content type")
            output = OutputDir()
        else:
            output = Output(content_type=content_type)
        super().__init__((obj,), (output,), config={"path": path}, name=name, session=session,
                         **policy)


STDIN_PATH = "+in"
STDOUT_PATH = "+out"


class Execute(Task):
    """Runs a program in a fresh working directory with its inputs mapped to files.

    ``args``: a string (split like a shell does) or a list of strings, data objects/tasks
    (mapped to a randomly named file whose name goes to argv), ``Input``s and ``Output``s (their
    path goes to argv). Input order: stdin, ``input_paths``, inputs from ``args``; output
    order: stdout, ``output_paths``, outputs from ``args``. ``shell=True`` runs the joined
    arguments with ``/bin/sh -c``. The task has a name only if given ``name=``.
    """

    TASK_TYPE = "buildin/run"

    def __init__(self, args: str | Iterable[ExecuteArg], stdout: Stdout = None,
                 stdin: DataLike | InputBase | None = None,
                 input_paths: Iterable[InputBase] = (),
                 output_paths: Iterable[str | OutputBase] = (), shell: bool = False,
                 cpus: int = 1, *, name: str | None = None, session: Session | None = None,
                 input_files: Iterable[InputBase] | None = None,
                 output_files: Iterable[str | OutputBase] | None = None,
                 memory: int | str | None = None, gpus: float | None = None,
                 resources: Mapping[str, float] | None = None, **policy: Any) -> None:
        # input_files/output_files: the names these arguments had before Rain 0.4.
        if input_files is not None:
            input_paths = input_files
        if output_files is not None:
            output_paths = output_files
        plan = _ExecutePlan()
        if stdin is not None:
            plan.add_stdin(stdin)
        for item in input_paths:
            plan.add_input_path(item)
        if stdout is not None:
            plan.add_stdout(stdout)
        for item in output_paths:
            plan.add_output_path(item)
        argv = plan.add_args(args, shell)
        if not argv or not argv[0]:
            raise RainException("Execute needs a program to run")
        config = {
            "args": argv,
            "in_paths": plan.in_paths_config(),
            "out_paths": plan.out_paths,
        }
        super().__init__(plan.inputs, plan.outputs, config=config, cpus=cpus, name=name,
                         session=session, memory=memory, gpus=gpus, resources=resources,
                         **policy)


def _check_path(path: object) -> str:
    """Checks a path in the task's working directory (relative, inside it; errors name the
    path) and returns it normalized."""
    if not isinstance(path, str) or path == "":
        raise RainException(f"Execute: a file path must be a non-empty string, not {path!r}")
    if path.startswith("/"):
        raise RainException(
            f"Execute: path {path!r} must be relative (to the task's working directory)")
    if ".." in path.split("/"):
        raise RainException(f"Execute: path {path!r} must not contain '..'")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts:
        raise RainException(f"Execute: path {path!r} does not name a file")
    return "/".join(parts)


class _ExecutePlan:
    """Collects the inputs/outputs of an Execute in the order the config lists them."""

    def __init__(self) -> None:
        self.inputs: list[InputBase] = []  # with dataobj, in input order
        self.in_paths: list[tuple[str, InputBase]] = []  # one per input
        self.outputs: list[OutputBase] = []  # in output order
        self.out_paths: list[str] = []  # one per output
        self._arg_inputs: list[tuple[InputBase, str]] = []
        self._arg_outputs: list[tuple[OutputBase, str]] = []
        self._used_in: set[str] = set()
        self._used_out: set[str] = set()

    def in_paths_config(self) -> list[dict[str, Any]]:
        config: list[dict[str, Any]] = []
        for path, item in self.in_paths:
            entry: dict[str, Any] = {"path": path, "write": bool(item.write)}
            if item.content_type:
                entry["content_type"] = item.content_type
            config.append(entry)
        return config

    def _claim_path(self, path: str, used: set[str], special: bool = False) -> str:
        """Reserves ``path`` for one input (``used`` = input paths) or one output. An output
        may have the path of an input (e.g. a writable copy modified in place)."""
        key = path if special else _check_path(path)
        if key in used:
            raise RainException(f"Execute: path {path!r} is used twice")
        used.add(key)
        return path

    def _random_path(self) -> str:
        while True:
            path = "data-" + secrets.token_hex(6)
            if path not in self._used_in and path not in self._used_out:
                return self._claim_path(path, self._used_in)

    @staticmethod
    def _as_input(item: DataLike | InputBase, label: str | None = None) -> InputBase:
        if isinstance(item, InputBase):
            if item.dataobj is None:
                raise RainException(f"{item} has no data object (dataobj=)")
            obj = item.dataobj
        else:
            obj = to_dataobj(item)
            kind = InputDir if obj.data_type == DataType.DIRECTORY else Input
            item = kind(label, dataobj=obj)
        declared = obj.spec.content_type
        if item.content_type and declared and not is_subtype(declared, item.content_type):
            raise RainException(f"{obj} has content type {declared!r}, but {item} expects "
                                f"{item.content_type!r}")
        return item

    def add_stdin(self, stdin: DataLike | InputBase) -> None:
        item = self._as_input(stdin, "stdin")
        if item.path is not None:
            raise RainException("the stdin Input cannot have a path")
        if item.dataobj is not None and item.dataobj.data_type != DataType.BLOB:
            raise RainException(f"stdin must be a blob, not the directory {item.dataobj}")
        if item.label is None:
            item = copy.copy(item)
            item.label = "stdin"
        self.inputs.append(item)
        self.in_paths.append((self._claim_path(STDIN_PATH, self._used_in, special=True), item))

    def add_input_path(self, item: object) -> None:
        if not isinstance(item, InputBase):
            raise RainException(f"input_paths takes Input/InputDir, not {item!r}")
        item = self._as_input(item)
        path = item.effective_path
        if path is None:
            raise RainException(f"{item} in input_paths needs a path or a label")
        self.inputs.append(item)
        self.in_paths.append((self._claim_path(path, self._used_in), item))

    def add_stdout(self, stdout: object) -> None:
        output: OutputBase
        if stdout is True:
            output = Output("stdout")
        elif isinstance(stdout, str):
            output = Output(stdout)
        elif isinstance(stdout, OutputBase):
            if stdout.path is not None:
                raise RainException("the stdout Output cannot have a path")
            if stdout.DATA_TYPE != DataType.BLOB:
                raise RainException(f"stdout is a blob, not a directory ({stdout!r})")
            output = stdout
        else:
            raise RainException(f"stdout must be True, a label or an Output, not {stdout!r}")
        if output.label is None:
            output = Output("stdout", content_type=output.content_type,
                            size_hint=output.size_hint)
        self.outputs.append(output)
        self.out_paths.append(self._claim_path(STDOUT_PATH, self._used_out, special=True))

    def _output_declaration(self, item: object) -> OutputBase:
        if isinstance(item, str):
            return Output(item)
        if isinstance(item, OutputBase):
            if item.effective_path is None:
                raise RainException(f"{item} needs a path or a label")
            if item.label is None:
                item = copy.copy(item)
                item.label = item.path
            return item
        raise RainException(f"expected a path or an Output, not {item!r}")

    def _output_path(self, output: OutputBase) -> str:
        path = output.effective_path
        assert path is not None  # checked by _output_declaration
        return path

    def add_output_path(self, item: object) -> None:
        output = self._output_declaration(item)
        self.outputs.append(output)
        self.out_paths.append(self._claim_path(self._output_path(output), self._used_out))

    def add_args(self, args: str | Iterable[object], shell: bool) -> list[str]:
        """Maps ``args`` to argv; inputs/outputs found there go after the others."""
        if isinstance(args, str):
            argv = [args] if shell else shlex.split(args)
        else:
            argv = [self._map_arg(arg) for arg in args]
        self.inputs.extend(item for item, _ in self._arg_inputs)
        self.in_paths.extend((path, item) for item, path in self._arg_inputs)
        self.outputs.extend(item for item, _ in self._arg_outputs)
        self.out_paths.extend(path for _, path in self._arg_outputs)
        if shell:
            argv = ["/bin/sh", "-c", " ".join(argv)]
        return argv

    def _map_arg(self, arg: Any) -> str:
        if isinstance(arg, str):
            return arg
        if isinstance(arg, (DataObject, Task)):
            item = self._as_input(arg)
            path = self._random_path()
        elif isinstance(arg, InputBase):
            item = self._as_input(arg)
            wanted = item.effective_path
            path = (self._claim_path(wanted, self._used_in) if wanted is not None
                    else self._random_path())
        elif isinstance(arg, OutputBase):
            output = self._output_declaration(arg)
            path = self._claim_path(self._output_path(output), self._used_out)
            self._arg_outputs.append((output, path))
            return path
        elif not isinstance(arg, bool) and isinstance(arg, numbers.Number):
            return str(arg)
        else:
            raise TypeError("Execute argument must be a str, a data object, an Input or an "
                            f"Output, not {arg!r}")
        self._arg_inputs.append((item, path))
        return path
