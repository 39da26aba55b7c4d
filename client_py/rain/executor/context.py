"""The context of a task running in an executor: its spec and info, debug messages, and ways to
create outputs (in memory, or staged files and directories)."""

import os
import shutil
import uuid

from ..common.attributes import ObjectInfo, TaskInfo, TaskSpec
from ..common.content_type import check_content_type, encode_value
from ..common.data_instance import DataInstance
from ..common.data_type import DataType
from ..common.errors import RainException


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
    """

    def __init__(self, call, inputs, governor_id=None, work_dir=None):
        self._call = call
        self._spec = None
        self.inputs = inputs
        self.info = TaskInfo(governor=governor_id)
        self.work_dir = work_dir if work_dir is not None else os.getcwd()
        self.function = None
        self._debug = []
        # Per output: content type to encode returned values with (Python tasks).
        self._encode = None

    @property
    def spec(self):
        if self._spec is None:
            self._spec = TaskSpec.from_json(self._call["spec"])
        return self._spec

    @property
    def config(self):
        return self._call["spec"].get("config")

    @property
    def outputs(self):
        """Specs of the outputs to produce (``ObjectSpec``s)."""
        from ..common.attributes import ObjectSpec
        return [ObjectSpec.from_json(o) for o in self._call["outputs"]]

    def debug(self, fmt, *args):
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
    def debug_text(self):
        return "\n".join(self._debug)

    def blob(self, data, content_type=None, encode=None):
        """An output blob in memory: bytes as they are, str as text, anything with
        ``encode=``."""
        if encode is not None:
            if content_type is not None and content_type != encode:
                raise RainException("content_type {!r} contradicts encode={!r}"
                                    .format(content_type, encode))
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
            raise RainException("blob() needs bytes or str, not {} (use encode=...)"
                                .format(type(data).__name__))
        return DataInstance(data, data_type=DataType.BLOB, content_type=content_type,
                            info=ObjectInfo(content_type=content_type))

    def pickled(self, value):
        """An output blob holding ``pickle.dumps(value)`` (content type "pickle")."""
        return self.blob(value, encode="pickle")

    def _staged_path(self, path):
        path = os.path.abspath(path)
        root = os.path.abspath(self.work_dir)
        if os.path.commonpath([root, path]) != root or path == root or os.path.islink(path):
            # Outside the working directory, or a link (e.g. to an input): the governor takes
            # the staged file, so it gets a copy of its own (the original is left alone).
            target = os.path.join(root, ".staged-{}".format(uuid.uuid4().hex))
            if os.path.isdir(path):
                shutil.copytree(path, target, symlinks=True)
            else:
                shutil.copyfile(path, target)
            path = target
        return path

    def stage_file(self, path, content_type=None):
        """An output blob from a file the task wrote; the file is moved into the governor's
        storage when the task returns (do not change it afterwards)."""
        check_content_type(content_type)
        if not os.path.isfile(path):
            raise RainException("stage_file: {!r} is not a file".format(path))
        instance = DataInstance(path=self._staged_path(path), data_type=DataType.BLOB,
                                content_type=content_type,
                                info=ObjectInfo(content_type=content_type))
        instance._staged = True
        return instance

    def stage_directory(self, path):
        """An output directory from a directory the task wrote; it is moved into the governor's
        storage when the task returns."""
        if not os.path.isdir(path):
            raise RainException("stage_directory: {!r} is not a directory".format(path))
        instance = DataInstance(path=self._staged_path(path), data_type=DataType.DIRECTORY,
                                info=ObjectInfo())
        instance._staged = True
        return instance

    def __repr__(self):
        return "<Context of task {}>".format(self._call["spec"].get("id"))
