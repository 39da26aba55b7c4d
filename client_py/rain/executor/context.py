"""The context of a task running in an executor: its spec and info, debug messages, and ways to
create outputs (in memory, or staged files and directories)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..common.attributes import JsonObject, ObjectInfo, ObjectSpec, TaskInfo, TaskSpec
from ..common.content_type import check_content_type, encode_value
from ..common.data_instance import DataInstance
from ..common.data_type import DataType
from ..common.dir_archive import StrPath
from ..common.errors import RainException

if TYPE_CHECKING:
    from .executor import Executor


class Context:
    """Passed to a task function as its first argument (``ctx``).

    - ``ctx.spec``: the task's spec (``TaskSpec``: ``id``, ``task_type``, ``config``, ``user``…)
    - ``ctx.info``: the task's info (``TaskInfo``); ``ctx.info.user`` is a dict the task may fill,
      reported back to the client; ``ctx.info.governor`` is the governor's id
    - ``ctx.inputs``: the task's inputs as ``DataInstance``s (for Python tasks the first one is
      the pickled function)
    - ``ctx.debug(fmt, *args)``: adds a line to the task's debug text
    - ``ctx.blob(…)``, ``ctx.pickled(…)``, ``ctx.stage_file(…)``, ``ctx.stage_directory(…)``:
      output data
    - ``ctx.function``: the Python function running (Python tasks)
    - ``ctx.work_dir``: the task's working directory (also the current directory at start)
    - ``ctx.resources``: what the task was given, e.g. ``{"cpus": 2, "gpus": ["1"],
      "gpu_share": 1, "memory": 4294967296, "custom": {"licence": 1}}`` (docs/resources.md);
      during the call ``CUDA_VISIBLE_DEVICES``, ``OMP_NUM_THREADS`` and ``RAIN_RESOURCES`` say
      the same in the environment
    """

    # Set by the executor for each call: itself, and the inputs to keep for later calls.
    _executor: Executor
    _keep: list[int]

    def __init__(self, call: JsonObject, inputs: list[DataInstance],
                 governor_id: str | None = None, work_dir: str | None = None,
                 staging_dir: str | None = None) -> None:
        self._call = call
        self._spec: TaskSpec | None = None
        # (Input 0 of a Python task may be a placeholder of the function kept from an earlier
        # call, with the spec and info but no data.)
        self.inputs = inputs
        self.info = TaskInfo(governor=governor_id)
        self.work_dir = work_dir if work_dir is not None else os.getcwd()
        # Where staged outputs wait for the governor: outside the working directory (so that a
        # staged name can be written again) but on its file system (so staging is a rename).
        self.staging_dir = staging_dir if staging_dir is not None else \
            os.path.join(os.path.dirname(os.path.abspath(self.work_dir)), ".staged")
        self.function: Callable[..., Any] | None = None
        self._debug: list[str] = []
        # Per output: content type to encode returned values with (Python tasks).
        self._encode: list[str | None] | None = None

    @property
    def spec(self) -> TaskSpec:
        if self._spec is None:
            self._spec = TaskSpec.from_json(self._call["spec"])
        return self._spec

    @property
    def attempt(self) -> int:
        """Which run of the task this is: 1, then 2, 3… when it is retried (``max_retries``)
        or run again after its governor was lost (also ``RAIN_TASK_ATTEMPT``)."""
        return int(self._call.get("attempt") or 1)

    @property
    def resources(self) -> dict[str, Any]:
        """What the task was given (a dict: cpus, and gpus, gpu_share, memory, custom)."""
        given = self._call.get("resources")
        if given is None:
            given = {"cpus": (self._call["spec"].get("resources") or {}).get("cpus", 1)}
        return dict(given)

    @property
    def config(self) -> Any:
        return self._call["spec"].get("config")

    @property
    def outputs(self) -> list[ObjectSpec]:
        """Specs of the outputs to produce (``ObjectSpec``s)."""
        return [ObjectSpec.from_json(o) for o in self._call["outputs"]]

    def debug(self, fmt: object, *args: object) -> None:
        """Adds ``fmt.format(*args)`` to the debug text (``fmt`` and the args joined by spaces
        when ``fmt`` has no placeholders)."""
        text = str(fmt)
        if args:
            try:
                formatted = text.format(*args)
            except (IndexError, KeyError, ValueError):
                formatted = text
            # Arguments without placeholders are appended, like print() does.
            text = formatted if formatted != text else " ".join([text] + [str(a) for a in args])
        self._debug.append(text)

    @property
    def debug_text(self) -> str:
        return "\n".join(self._debug)

    def blob(self, data: Any, content_type: str | None = None,
             encode: str | None = None) -> DataInstance:
        """An output blob in memory: bytes as they are, str as text, anything with
        ``encode=``."""
        if encode is not None:
            if content_type is not None and content_type != encode:
                raise RainException(
                    f"content_type {content_type!r} contradicts encode={encode!r}")
            content_type = encode
            data = encode_value(data, encode)
        elif isinstance(data, str):
            content_type = content_type or "text"
            check_content_type(content_type)
            encoding = content_type[5:] if content_type.startswith("text-") else "utf-8"
            data = data.encode(encoding)
        else:
            check_content_type(content_type)
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, bytes):
            raise RainException(
                f"blob() needs bytes or str, not {type(data).__name__} (use encode=...)")
        return DataInstance(data, data_type=DataType.BLOB, content_type=content_type,
                            info=ObjectInfo(content_type=content_type))

    def pickled(self, value: Any) -> DataInstance:
        """An output blob holding ``pickle.dumps(value)`` (content type "pickle")."""
        return self.blob(value, encode="pickle")

    def _stage(self, path: StrPath) -> str:
        """Takes ``path`` away for the governor: the path of the staged copy, in the staging
        directory. A file or directory of the working directory is moved there at once (so the
        name is free again); anything else (outside it, or a link, e.g. to an input) is copied:
        the original is not the task's to give away."""
        source = os.path.abspath(path)
        root = os.path.abspath(self.work_dir)
        os.makedirs(self.staging_dir, exist_ok=True)
        name = os.path.basename(source.rstrip(os.sep)) or "staged"
        target = os.path.join(self.staging_dir, f"{uuid.uuid4().hex}-{name}")
        inside = os.path.commonpath([root, source]) == root and source != root
        if inside and not os.path.islink(source):
            os.rename(source, target)
        elif os.path.isdir(source):
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copyfile(source, target)
        return target

    def stage_file(self, path: StrPath, content_type: str | None = None) -> DataInstance:
        """An output blob from a file the task wrote. The file is moved out of the working
        directory at once (into the governor's storage when the task returns): the name may be
        written again; do not keep using the old path."""
        check_content_type(content_type)
        if not os.path.isfile(path):
            raise RainException(f"stage_file: {path!r} is not a file")
        instance = DataInstance(path=self._stage(path), data_type=DataType.BLOB,
                                content_type=content_type,
                                info=ObjectInfo(content_type=content_type))
        instance._staged = True
        return instance

    def stage_directory(self, path: StrPath) -> DataInstance:
        """An output directory from a directory the task wrote; it is moved out of the working
        directory at once, like ``stage_file``."""
        if not os.path.isdir(path):
            raise RainException(f"stage_directory: {path!r} is not a directory")
        instance = DataInstance(path=self._stage(path), data_type=DataType.DIRECTORY,
                                info=ObjectInfo())
        instance._staged = True
        return instance

    def __repr__(self) -> str:
        return f"<Context of task {self._call['spec'].get('id')}>"
