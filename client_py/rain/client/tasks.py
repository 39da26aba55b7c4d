"""Built-in tasks, run by the governor itself (executor "buildin").

Configs are exactly those of common/builtin_tasks.ts; Execute builds a ``buildin/run`` task.
"""

import copy
import numbers
import os
import secrets
import shlex

from ..common.content_type import is_subtype
from ..common.data_type import DataType
from ..common.errors import RainException
from .data import DataObject, to_dataobj
from .input import Input, InputBase, InputDir
from .output import Output, OutputBase, OutputDir
from .task import Task


def _governor_path(path, task_name):
    """A path on the governor (a str or path-like). It must be absolute, but as in Rain 0.4 that
    is checked when the task runs: a relative path fails the task with a TaskException naming
    the path."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise RainException("{} needs a path, not {!r}".format(task_name, path))
    return path


def _relative_path(path, task_name):
    if not isinstance(path, str) or path == "":
        raise RainException("{} needs a non-empty relative path, not {!r}".format(task_name, path))
    if path.startswith("/"):
        raise RainException("{}: path {!r} must be relative".format(task_name, path))
    if ".." in path.split("/"):
        raise RainException("{}: path {!r} must not contain '..'".format(task_name, path))
    return path


class Concat(Task):
    """Concatenates blobs into one blob."""

    TASK_TYPE = "buildin/concat"

    def __init__(self, inputs, *, name=None, session=None):
        objects = [to_dataobj(i) for i in inputs]
        for obj in objects:
            if obj.data_type != DataType.BLOB:
                raise RainException("Concat takes blobs, but {} is a directory".format(obj))
        super().__init__(objects, 1, name=name, session=session)


class Sleep(Task):
    """Passes its input on after ``seconds``; the output keeps the input's data and content
    type."""

    TASK_TYPE = "buildin/sleep"

    def __init__(self, input, seconds, cpus=1, *, name=None, session=None):
        obj = to_dataobj(input)
        if not isinstance(seconds, numbers.Real) or isinstance(seconds, bool) or \
                not seconds >= 0 or seconds == float("inf"):
            raise RainException("Sleep needs a number of seconds >= 0, not {!r}".format(seconds))
        output = Output(content_type=obj.spec.content_type) \
            if obj.data_type == DataType.BLOB else OutputDir()
        super().__init__((obj,), (output,), config={"seconds": seconds}, cpus=cpus, name=name,
                         session=session)


class Load(Task):
    """Reads a file (absolute path, on the governor) into a blob."""

    TASK_TYPE = "buildin/open"

    def __init__(self, path, *, content_type=None, name=None, session=None):
        config = {"path": _governor_path(path, "Load")}
        super().__init__((), (Output(content_type=content_type),), config=config, name=name,
                         session=session)


class LoadDir(Task):
    """Reads a directory (absolute path, on the governor) into a directory object."""

    TASK_TYPE = "buildin/open_dir"

    def __init__(self, path, *, name=None, session=None):
        config = {"path": _governor_path(path, "LoadDir")}
        super().__init__((), (OutputDir(),), config=config, name=name, session=session)


class Store(Task):
    """Writes an object to an absolute path on the governor's file system."""

    TASK_TYPE = "buildin/export"

    def __init__(self, input, path, *, name=None, session=None):
        config = {"path": _governor_path(path, "Store")}
        super().__init__((to_dataobj(input),), 0, config=config, name=name, session=session)


class MakeDirectory(Task):
    """Builds a directory from objects: pairs ``(relative path, object)`` or a dict."""

    TASK_TYPE = "buildin/make_directory"

    def __init__(self, paths_objects, *, name=None, session=None):
        if isinstance(paths_objects, dict):
            paths_objects = paths_objects.items()
        paths = []
        objects = []
        for path, obj in paths_objects:
            paths.append(_relative_path(path, "MakeDirectory"))
            objects.append(to_dataobj(obj))
        super().__init__(objects, (OutputDir(),), config={"paths": paths}, name=name,
                         session=session)


class SliceDirectory(Task):
    """Takes a file (a blob) or, for a path ending in "/", a subdirectory out of a directory."""

    TASK_TYPE = "buildin/slice_directory"

    def __init__(self, input, path, *, content_type=None, name=None, session=None):
        obj = to_dataobj(input)
        if obj.data_type != DataType.DIRECTORY:
            raise RainException("SliceDirectory takes a directory, but {} is a blob".format(obj))
        _relative_path(path, "SliceDirectory")
        if path.endswith("/"):
            if content_type:
                raise RainException("a directory has no content type")
            output = OutputDir()
        else:
            output = Output(content_type=content_type)
        super().__init__((obj,), (output,), config={"path": path}, name=name, session=session)


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

    def __init__(self, args, stdout=None, stdin=None, input_paths=(), output_paths=(),
                 shell=False, cpus=1, *, name=None, session=None, input_files=None,
                 output_files=None):
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
                         session=session)


def _check_path(path):
    """Checks a path in the task's working directory (relative, inside it; errors name the
    path) and returns it normalized."""
    if not isinstance(path, str) or path == "":
        raise RainException("Execute: a file path must be a non-empty string, not {!r}"
                            .format(path))
    if path.startswith("/"):
        raise RainException("Execute: path {!r} must be relative (to the task's working "
                            "directory)".format(path))
    if ".." in path.split("/"):
        raise RainException("Execute: path {!r} must not contain '..'".format(path))
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts:
        raise RainException("Execute: path {!r} does not name a file".format(path))
    return "/".join(parts)


class _ExecutePlan:
    """Collects the inputs/outputs of an Execute in the order the config lists them."""

    def __init__(self):
        self.inputs = []  # InputBase with dataobj, in input order
        self.in_paths = []  # (path, InputBase), one per input
        self.outputs = []  # OutputBase, in output order
        self.out_paths = []  # one per output
        self._arg_inputs = []
        self._arg_outputs = []
        self._used_in = set()
        self._used_out = set()

    def in_paths_config(self):
        config = []
        for path, item in self.in_paths:
            entry = {"path": path, "write": bool(item.write)}
            if item.content_type:
                entry["content_type"] = item.content_type
            config.append(entry)
        return config

    def _claim_path(self, path, used, special=False):
        """Reserves ``path`` for one input (``used`` = input paths) or one output. An output
        may have the path of an input (e.g. a writable copy modified in place)."""
        key = path if special else _check_path(path)
        if key in used:
            raise RainException("Execute: path {!r} is used twice".format(path))
        used.add(key)
        return path

    def _random_path(self):
        while True:
            path = "data-" + secrets.token_hex(6)
            if path not in self._used_in and path not in self._used_out:
                return self._claim_path(path, self._used_in)

    @staticmethod
    def _as_input(item, label=None):
        if isinstance(item, InputBase):
            if item.dataobj is None:
                raise RainException("{} has no data object (dataobj=)".format(item))
        else:
            obj = to_dataobj(item)
            kind = InputDir if obj.data_type == DataType.DIRECTORY else Input
            item = kind(label, dataobj=obj)
        declared = item.dataobj.spec.content_type
        if item.content_type and declared and not is_subtype(declared, item.content_type):
            raise RainException("{} has content type {!r}, but {} expects {!r}".format(
                item.dataobj, declared, item, item.content_type))
        return item

    def add_stdin(self, stdin):
        item = self._as_input(stdin, "stdin")
        if item.path is not None:
            raise RainException("the stdin Input cannot have a path")
        if item.dataobj.data_type != DataType.BLOB:
            raise RainException("stdin must be a blob, not the directory {}".format(item.dataobj))
        if item.label is None:
            item = copy.copy(item)
            item.label = "stdin"
        self.inputs.append(item)
        self.in_paths.append((self._claim_path(STDIN_PATH, self._used_in, special=True), item))

    def add_input_path(self, item):
        if not isinstance(item, InputBase):
            raise RainException("input_paths takes Input/InputDir, not {!r}".format(item))
        item = self._as_input(item)
        path = item.effective_path
        if path is None:
            raise RainException("{} in input_paths needs a path or a label".format(item))
        self.inputs.append(item)
        self.in_paths.append((self._claim_path(path, self._used_in), item))

    def add_stdout(self, stdout):
        if stdout is True:
            output = Output("stdout")
        elif isinstance(stdout, str):
            output = Output(stdout)
        elif isinstance(stdout, OutputBase):
            if stdout.path is not None:
                raise RainException("the stdout Output cannot have a path")
            if stdout.DATA_TYPE != DataType.BLOB:
                raise RainException("stdout is a blob, not a directory ({!r})".format(stdout))
            output = stdout
        else:
            raise RainException("stdout must be True, a label or an Output, not {!r}"
                                .format(stdout))
        if output.label is None:
            output = Output("stdout", content_type=output.content_type,
                            size_hint=output.size_hint)
        self.outputs.append(output)
        self.out_paths.append(self._claim_path(STDOUT_PATH, self._used_out, special=True))

    def _output_declaration(self, item):
        if isinstance(item, str):
            return Output(item)
        if isinstance(item, OutputBase):
            if item.effective_path is None:
                raise RainException("{} needs a path or a label".format(item))
            if item.label is None:
                item = copy.copy(item)
                item.label = item.path
            return item
        raise RainException("expected a path or an Output, not {!r}".format(item))

    def add_output_path(self, item):
        output = self._output_declaration(item)
        self.outputs.append(output)
        self.out_paths.append(self._claim_path(output.effective_path, self._used_out))

    def add_args(self, args, shell):
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

    def _map_arg(self, arg):
        if isinstance(arg, str):
            return arg
        if isinstance(arg, (DataObject, Task)):
            item = self._as_input(arg)
            path = self._random_path()
        elif isinstance(arg, InputBase):
            item = self._as_input(arg)
            path = item.effective_path
            path = (self._claim_path(path, self._used_in) if path is not None
                    else self._random_path())
        elif isinstance(arg, OutputBase):
            output = self._output_declaration(arg)
            path = self._claim_path(output.effective_path, self._used_out)
            self._arg_outputs.append((output, path))
            return path
        elif isinstance(arg, numbers.Number) and not isinstance(arg, bool):
            return str(arg)
        else:
            raise TypeError("Execute argument must be a str, a data object, an Input or an "
                            "Output, not {!r}".format(arg))
        self._arg_inputs.append((item, path))
        return path
