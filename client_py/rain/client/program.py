"""Program: a reusable Execute pattern whose Inputs are filled in at each call."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from ..common.data_type import DataType
from ..common.errors import RainException
from .data import DataObject
from .input import Input, InputBase
from .output import OutputBase
from .task import Task
from .tasks import Execute, ExecuteArg, Stdout
from ..common.resources import make_resources
from .policy import POLICY_KEYWORDS, make_policy, merge_policy


class Program:
    """Like ``Execute``, but every input is an ``Input`` without data; calling
    ``program(label=obj, ...)`` creates an Execute task in the active session.

    A plain string given as ``stdin`` or in ``input_paths`` is the label of such an input (in
    ``input_paths`` it is also the file's path). A call takes ``name=`` (the task's name, by
    default the Program's), ignores keywords that name no input, and an ``Output`` given under
    an output's label replaces that output's declaration (e.g. to set a content type).
    Policies (``max_retries``, ``retry_on``, ``time_limit``, ``crash_limit``; docs/policies.md)
    are given at definition and may be overridden per call.
    """

    def __init__(self, args: str | Iterable[ExecuteArg], stdout: Stdout = None,
                 stdin: str | InputBase | None = None,
                 input_paths: Iterable[str | InputBase] = (),
                 output_paths: Iterable[str | OutputBase] = (), shell: bool = False,
                 name: str | None = None, cpus: int = 1, *,
                 input_files: Iterable[str | InputBase] | None = None,
                 output_files: Iterable[str | OutputBase] | None = None,
                 memory: int | str | None = None, gpus: float | None = None,
                 resources: Mapping[str, float] | None = None, max_retries: int | None = None,
                 retry_on: Any = None, time_limit: float | None = None,
                 crash_limit: int | None = None) -> None:
        if input_files is not None:
            input_paths = input_files
        if output_files is not None:
            output_paths = output_files
        if isinstance(args, str) and not shell:
            args = shlex.split(args)
        self.args: str | tuple[Any, ...] = args if isinstance(args, str) else tuple(args)
        self.stdout = stdout
        self.stdin: InputBase | None = Input(stdin) if isinstance(stdin, str) else stdin
        self.input_paths: tuple[InputBase, ...] = tuple(
            Input(item) if isinstance(item, str) else item for item in input_paths)
        self.output_paths = tuple(output_paths)
        self.shell = shell
        self.name = name
        self.cpus = cpus
        # Checked now (RainException), given to every task.
        make_resources(cpus, memory, gpus, resources)
        self.resource_request: dict[str, Any] = {"memory": memory, "gpus": gpus,
                                                 "resources": resources}
        self.policy = make_policy(max_retries, retry_on, time_limit, crash_limit)
        for item in self._patterns():
            if isinstance(item, (DataObject, Task)) or \
                    (isinstance(item, InputBase) and item.dataobj is not None):
                raise RainException(f"a Program's inputs are Inputs without data, not {item!r}")
            if isinstance(item, InputBase) and item.label is None:
                raise RainException(f"every Input of a Program needs a label, {item!r} has none")

    def _patterns(self) -> list[Any]:
        args = () if isinstance(self.args, str) else self.args
        return list(args) + [self.stdin] + list(self.input_paths)

    def __call__(self, **objects: Any) -> Execute:
        # ``name`` is the task's name, unless it is the object of an input labelled "name".
        name = self.name
        if "name" in objects and not isinstance(objects["name"], (DataObject, Task)):
            name = objects.pop("name")
            if name is not None and not isinstance(name, str):
                raise TypeError(f"name must be a str, not {name!r}")
        # Policy keywords override the definition's, unless they are the data of an input.
        call_policy = make_policy(**{
            key: objects.pop(key) for key in POLICY_KEYWORDS
            if key in objects and not isinstance(objects[key], (DataObject, Task))})
        policy = merge_policy(self.policy, call_policy) or {}
        overrides: dict[str, OutputBase] = {label: value for label, value in objects.items()
                                            if isinstance(value, OutputBase)}

        def bind(item: Any) -> Any:
            if isinstance(item, InputBase):
                label: Any = item.label  # every Input of a Program has one (checked)
                return item.with_dataobj(objects[label])  # KeyError names the missing label
            if isinstance(item, OutputBase):
                return _override_output(item, overrides)
            return item

        args = self.args if isinstance(self.args, str) else [bind(a) for a in self.args]
        return Execute(args, stdout=self._bind_stdout(overrides), stdin=bind(self.stdin),
                       input_paths=[bind(i) for i in self.input_paths],
                       output_paths=[_override_output(o, overrides) for o in self.output_paths],
                       shell=self.shell, cpus=self.cpus, name=name, **self.resource_request,
                       **policy)

    def _bind_stdout(self, overrides: Mapping[str, OutputBase]) -> Stdout:
        stdout = self.stdout
        if stdout is True or (isinstance(stdout, OutputBase) and stdout.label is None):
            label = "stdout"
        elif isinstance(stdout, OutputBase):
            label = stdout.label
        else:
            label = stdout  # None, or the label of a blob
        override = overrides.get(label) if isinstance(label, str) else None
        if override is None or not isinstance(label, str):
            return stdout
        if override.path is not None:
            raise RainException(f"the stdout Output cannot have a path ({override!r})")
        return _replacement(override, label, None, DataType.BLOB)

    def __repr__(self) -> str:
        shown = self.args if isinstance(self.args, str) else " ".join(map(str, self.args))
        return f"<Program {shown!r}>"


def _override_output(pattern: str | OutputBase,
                     overrides: Mapping[str, OutputBase]) -> str | OutputBase:
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
        raise RainException(
            f"{override!r} cannot move output {label!r}: the Program writes it to {path!r}")
    return _replacement(override, label, path, data_type)


def _replacement(override: OutputBase, label: str | None, path: str | None,
                 data_type: DataType | None) -> OutputBase:
    """``override`` with the pattern's path, and the pattern's label unless it names one."""
    if override.DATA_TYPE != data_type:
        kind = data_type.value if data_type is not None else None
        raise RainException(f"output {label!r} is a {kind}, {override!r} cannot replace it")
    return type(override)(override.label if override.label is not None else label,
                          size_hint=override.size_hint, content_type=override.content_type,
                          encode=override.encode, path=path)
