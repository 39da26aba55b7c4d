"""Program: a reusable Execute pattern whose Inputs are filled in at each call."""

import shlex

from ..common.data_type import DataType
from ..common.errors import RainException
from .data import DataObject
from .input import Input, InputBase
from .output import OutputBase
from .task import Task
from .tasks import Execute


class Program:
    """Like ``Execute``, but every input is an ``Input`` without data; calling
    ``program(label=obj, ...)`` creates an Execute task in the active session.

    A plain string given as ``stdin`` or in ``input_paths`` is the label of such an input (in
    ``input_paths`` it is also the file's path). A call takes ``name=`` (the task's name, by
    default the Program's), ignores keywords that name no input, and an ``Output`` given under
    an output's label replaces that output's declaration (e.g. to set a content type).
    """

    def __init__(self, args, stdout=None, stdin=None, input_paths=(), output_paths=(),
                 shell=False, name=None, cpus=1, *, input_files=None, output_files=None):
        if input_files is not None:
            input_paths = input_files
        if output_files is not None:
            output_paths = output_files
        if isinstance(args, str) and not shell:
            args = shlex.split(args)
        self.args = args if isinstance(args, str) else tuple(args)
        self.stdout = stdout
        self.stdin = Input(stdin) if isinstance(stdin, str) else stdin
        self.input_paths = tuple(Input(item) if isinstance(item, str) else item
                                 for item in input_paths)
        self.output_paths = tuple(output_paths)
        self.shell = shell
        self.name = name
        self.cpus = cpus
        for item in self._patterns():
            if isinstance(item, (DataObject, Task)) or \
                    (isinstance(item, InputBase) and item.dataobj is not None):
                raise RainException("a Program's inputs are Inputs without data, not {!r}"
                                    .format(item))
            if isinstance(item, InputBase) and item.label is None:
                raise RainException("every Input of a Program needs a label, {!r} has none"
                                    .format(item))

    def _patterns(self):
        args = () if isinstance(self.args, str) else self.args
        return list(args) + [self.stdin] + list(self.input_paths)

    def __call__(self, **objects):
        # ``name`` is the task's name, unless it is the object of an input labelled "name".
        name = self.name
        if "name" in objects and not isinstance(objects["name"], (DataObject, Task)):
            name = objects.pop("name")
            if name is not None and not isinstance(name, str):
                raise TypeError("name must be a str, not {!r}".format(name))
        overrides = {label: value for label, value in objects.items()
                     if isinstance(value, OutputBase)}

        def bind(item):
            if isinstance(item, InputBase):
                return item.with_dataobj(objects[item.label])  # KeyError names the missing label
            if isinstance(item, OutputBase):
                return _override_output(item, overrides)
            return item

        args = self.args if isinstance(self.args, str) else [bind(a) for a in self.args]
        return Execute(args, stdout=self._bind_stdout(overrides), stdin=bind(self.stdin),
                       input_paths=[bind(i) for i in self.input_paths],
                       output_paths=[_override_output(o, overrides) for o in self.output_paths],
                       shell=self.shell, cpus=self.cpus, name=name)

    def _bind_stdout(self, overrides):
        stdout = self.stdout
        if stdout is True or (isinstance(stdout, OutputBase) and stdout.label is None):
            label = "stdout"
        elif isinstance(stdout, OutputBase):
            label = stdout.label
        else:
            label = stdout  # None, or the label of a blob
        override = overrides.get(label) if isinstance(label, str) else None
        if override is None:
            return stdout
        if override.path is not None:
            raise RainException("the stdout Output cannot have a path ({!r})".format(override))
        return _replacement(override, label, None, DataType.BLOB)

    def __repr__(self):
        return "<Program {!r}>".format(self.args if isinstance(self.args, str)
                                       else " ".join(map(str, self.args)))


def _override_output(pattern, overrides):
    """An output of ``output_paths`` or ``args`` (a path, or an Output), or the Output given for
    its label at the call instead."""
    if isinstance(pattern, OutputBase):
        path = pattern.effective_path
        label = pattern.label if pattern.label is not None else path
        data_type = pattern.DATA_TYPE
    else:
        label = path = pattern
        data_type = DataType.BLOB
    override = overrides.get(label) if isinstance(label, str) else None
    if override is None:
        return pattern
    if override.path is not None and override.path != path:
        raise RainException("{!r} cannot move output {!r}: the Program writes it to {!r}"
                            .format(override, label, path))
    return _replacement(override, label, path, data_type)


def _replacement(override, label, path, data_type):
    """``override`` with the pattern's path, and the pattern's label unless it names one."""
    if override.DATA_TYPE != data_type:
        raise RainException("output {!r} is a {}, {!r} cannot replace it".format(
            label, data_type.value, override))
    return type(override)(override.label if override.label is not None else label,
                          size_hint=override.size_hint, content_type=override.content_type,
                          encode=override.encode, path=path)
