"""Program: a reusable Execute pattern whose Inputs are filled in at each call."""

import shlex

from ..common.errors import RainException
from .data import DataObject
from .input import InputBase
from .task import Task
from .tasks import Execute


class Program:
    """Like ``Execute``, but every input is an ``Input`` without data; calling
    ``program(label=obj, ...)`` creates an Execute task in the active session."""

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
        self.stdin = stdin
        self.input_paths = tuple(input_paths)
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
        used = set()

        def bind(item):
            if not isinstance(item, InputBase):
                return item
            used.add(item.label)
            return item.with_dataobj(objects[item.label])  # KeyError names the missing label

        args = self.args if isinstance(self.args, str) else [bind(a) for a in self.args]
        stdin = bind(self.stdin)
        input_paths = [bind(i) for i in self.input_paths]
        unknown = set(objects) - used
        if unknown:
            raise TypeError("{} has no input labelled {}".format(
                self, ", ".join(sorted(map(repr, unknown)))))
        return Execute(args, stdout=self.stdout, stdin=stdin, input_paths=input_paths,
                       output_paths=self.output_paths, shell=self.shell, cpus=self.cpus,
                       name=self.name)

    def __repr__(self):
        return "<Program {!r}>".format(self.args if isinstance(self.args, str)
                                       else " ".join(map(str, self.args)))
