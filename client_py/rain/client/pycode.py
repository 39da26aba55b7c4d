"""Python tasks: ``@remote()`` / ``Remote`` turn a function into a task factory.

Calling the decorated function creates a task of type ``py/`` in the active session instead of
running it. The task's inputs are the function (cloudpickled once per session into a kept
object, always input 0) followed by every data object found anywhere inside the arguments. The
arguments themselves are bound like a normal call and cloudpickled one by one into the task's
config, each data object replaced by a placeholder ``(input index, load, content type)`` that the
executor resolves to a ``DataInstance`` (or to its loaded value).
"""

from __future__ import annotations

import base64
import functools
import inspect
import io
import pickle
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Union, cast, overload

from ..common.data_type import DataType
from ..common.errors import RainException, RainWarning, import_optional
from .data import DataObject
from .input import InputBase
from .output import Output, OutputBase
from .session import get_active_session
from .task import Task, check_cpus
from ..common.resources import make_resources
from .policy import POLICY_KEYWORDS, make_policy, merge_policy

if TYPE_CHECKING:
    from .session import Session

# One output declaration: None (an unlabeled blob), a label, an Output or an unsubmitted object.
OutputDecl = Union[None, str, OutputBase, DataObject]
# ``outputs=``: a count, one declaration, or several.
Outputs = Union[int, str, OutputBase, DataObject, Iterable[OutputDecl], None]
# The input placeholder pickled in place of a data object: (input index, load, content type).
Placeholder = tuple[int, bool, Union[str, None]]
PY_TASK_TYPE = "py/"
# A pickled argument larger than this raises RainWarning: big data belongs in data objects.
PICKLE_ARG_SIZE_LIMIT = 256 * 1024

_PARAMETER_KINDS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _picklers() -> tuple[Any, Any]:
    """``(argument pickler, function pickler)`` classes, made on first use: cloudpickle is
    optional (everything else in the client works without it), imported only by Python tasks."""
    global _PICKLERS
    if _PICKLERS is not None:
        return _PICKLERS
    cloudpickle: Any = import_optional("cloudpickle", "@remote (Python tasks)")
    base: Any = cloudpickle.CloudPickler

    class ArgumentPickler(base):
        """Cloudpickles one argument, replacing data objects by input placeholders."""

        def __init__(self, file: IO[bytes], collector: _InputCollector, load: bool | None,
                     content_type: str | None) -> None:
            base.__init__(self, file, protocol=pickle.HIGHEST_PROTOCOL)
            self._collector = collector
            self._load = load
            self._content_type = content_type

        def persistent_id(self, obj: object) -> Placeholder | None:
            if isinstance(obj, (DataObject, Task, InputBase)):
                return self._collector.placeholder(obj, self._load, self._content_type)
            return None

        def reducer_override(self, obj: object) -> Any:
            # A generator cannot be pickled: it arrives as an iterator over its items.
            if isinstance(obj, types.GeneratorType):
                return iter, (list(obj),)  # pyright: ignore[reportUnknownArgumentType]
            return base.reducer_override(self, obj)

    class FunctionPickler(base):
        def persistent_id(self, obj: object) -> None:
            if isinstance(obj, (DataObject, Task)) or \
                    (isinstance(obj, InputBase) and obj.dataobj is not None):
                raise RainException(f"the function of a Python task refers to {obj!r}; pass "
                                    "data objects as arguments")
            return None

    # (A cache filled once; the name is upper-case because tests reset it.)
    _PICKLERS = (ArgumentPickler, FunctionPickler)  # pyright: ignore[reportConstantRedefinition]
    return _PICKLERS


_PICKLERS: tuple[Any, Any] | None = None


class _InputCollector:
    """The task's data inputs, in order of first appearance (input 0 is the function)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.objects: list[DataObject] = []
        self._index: dict[int, int] = {}

    def placeholder(self, obj: DataObject | Task | InputBase, load: bool | None,
                    content_type: str | None) -> Placeholder:
        if isinstance(obj, InputBase):
            if obj.dataobj is None:
                raise RainException(f"{obj!r} inside an argument has no data object")
            if obj.load is not None:
                load = obj.load
            if obj.content_type is not None:
                content_type = obj.content_type
            obj = obj.dataobj
        elif isinstance(obj, Task):
            if len(obj.outputs) != 1:
                raise RainException(f"{obj} has {len(obj.outputs)} outputs; pass one of "
                                    "task.outputs as an argument")
            obj = obj.output
        if obj.session is not self.session:
            raise RainException(f"{obj} belongs to another session than the task")
        index = self._index.get(id(obj))
        if index is None:
            self.objects.append(obj)
            index = self._index[id(obj)] = len(self.objects)  # 0 is the function
        return (index, bool(load), content_type)


def _is_output_annotation(value: object) -> bool:
    """A return annotation declaring outputs: an Output, a count, or a non-empty tuple/list whose
    items are all Outputs or labels (strings), mixed freely: ``-> ("a", Output("b"))``.

    A lone string is never a label: it may be a postponed annotation such as ``-> "bytes"``
    (and with ``from __future__ import annotations`` every annotation is a string, so such
    functions declare their outputs with ``outputs=``)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, OutputBase)):
        return True
    if not isinstance(value, (tuple, list)):
        return False
    items = cast("Sequence[object]", value)
    return len(items) > 0 and all(isinstance(v, (OutputBase, str)) for v in items)


def _output_items(outputs: Outputs) -> list[OutputDecl]:
    """Output declarations as a list of None / label / OutputBase / DataObject."""
    if outputs is None:
        return [None]
    if isinstance(outputs, bool):
        raise TypeError("outputs must be a number, labels, Outputs or data objects")
    if isinstance(outputs, int):
        if outputs < 0:
            raise RainException("outputs must not be negative")
        return [None] * outputs
    if isinstance(outputs, (str, OutputBase, DataObject)):
        return [outputs]
    return list(outputs)


def _as_output(item: object) -> OutputBase | DataObject:
    if item is None:
        return Output()
    if isinstance(item, str):
        return Output(item)
    if isinstance(item, (OutputBase, DataObject)):
        return item
    raise TypeError(f"an output must be a label, an Output or a DataObject, not {item!r}")


def _merge_output(declared: OutputBase | DataObject,
                  given: OutputDecl) -> OutputBase | DataObject:
    """A per-call output on top of the declared one (label, content type, encode)."""
    if given is None:
        return declared
    if isinstance(given, DataObject):
        return given
    given = _as_output(given)
    if isinstance(given, DataObject) or not isinstance(declared, OutputBase):
        return given  # (given is an OutputBase: _as_output of a label or an Output)
    if type(given) is not type(declared):
        return given
    return type(given)(
        given.label if given.label is not None else declared.label,
        size_hint=given.size_hint if given.size_hint is not None else declared.size_hint,
        content_type=given.content_type if given.content_type is not None
        else (declared.content_type if given.encode is None else None),
        encode=given.encode if given.encode is not None
        else (declared.encode if given.content_type is None else None),
        path=given.path if given.path is not None else declared.path)


class Remote:
    """A function that runs as a Rain task: calling it creates a ``py/`` task.

    ``inputs``: ``Input``s per parameter (a dict by name, or a sequence for the parameters after
    ``ctx``); parameter annotations that are ``Input``s count too. ``outputs``: a number, labels,
    ``Output``s (or the return annotation; default one output). ``auto_load``: load every input
    by its content type; ``auto_encode``: encode returned values with this content type.
    ``name`` (default: the function's name), ``cpus``, ``memory``, ``gpus`` and ``resources``
    (docs/resources.md) go to every task; the task sees what it was given in ``ctx.resources``.
    Policies ``max_retries``, ``retry_on`` (exception classes or names), ``time_limit`` and
    ``crash_limit`` (docs/policies.md) too; a call may override them by keyword unless the
    function has a parameter of that name. The task sees its run number in ``ctx.attempt``.
    """

    def __init__(self, fn: Callable[..., Any],
                 inputs: Mapping[str, InputBase | None] | Sequence[InputBase | None] = (),
                 outputs: Outputs = None, auto_load: bool | None = None,
                 auto_encode: str | None = None, name: str | None = None, cpus: int = 1,
                 memory: int | str | None = None, gpus: float | None = None,
                 resources: Mapping[str, float] | None = None, max_retries: int | None = None,
                 retry_on: Any = None, time_limit: float | None = None,
                 crash_limit: int | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"remote needs a function, not {fn!r}")
        check_cpus(cpus)
        self.fn = fn
        functools.update_wrapper(self, fn)
        self.signature = inspect.signature(fn)
        params = list(self.signature.parameters.values())
        if not params or params[0].kind not in _PARAMETER_KINDS:
            raise RainException(f"the function {_name_of(fn)!r} of a Python task must take the "
                                "context (ctx) as its first argument")
        self._params = params
        self._has_name_parameter = any(
            p.name == "name" and p.kind != inspect.Parameter.POSITIONAL_ONLY for p in params[1:])
        self.inputs: dict[str, InputBase] = {}
        for p in params[1:]:
            if isinstance(p.annotation, InputBase):
                self.inputs[p.name] = p.annotation
        items: Iterable[tuple[str, object]]
        if isinstance(inputs, dict):
            items = cast("dict[str, object]", inputs).items()
        else:
            items = [(p.name, i) for p, i in zip(params[1:], inputs)]
            if len(inputs) > len(params) - 1:
                raise RainException(f"{len(inputs)} inputs given for {len(params) - 1} parameters")
        names = {p.name for p in params[1:]}
        for pname, decl in items:
            if pname not in names:
                raise RainException(f"{_name_of(fn)!r} has no parameter {pname!r}")
            if decl is None:
                continue
            if not isinstance(decl, InputBase):
                raise TypeError(f"inputs must be Inputs, not {decl!r}")
            self.inputs[pname] = decl
        if outputs is None:
            annotation = self.signature.return_annotation
            if annotation is not inspect.Signature.empty and _is_output_annotation(annotation):
                outputs = annotation
        self.outputs = [_as_output(i) for i in _output_items(outputs)]
        self.auto_load = auto_load
        self.auto_encode = auto_encode
        self.name = name if name is not None else getattr(fn, "__name__", None)
        self.cpus = cpus
        make_resources(cpus, memory, gpus, resources)  # checked now, given to every task
        self.resource_request: dict[str, Any] = {"memory": memory, "gpus": gpus,
                                                 "resources": resources}
        self.policy = make_policy(max_retries, retry_on, time_limit, crash_limit)
        self._parameter_names = names

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled inside another function's globals: only the function matters remotely.
        return Remote, (self.fn,), None

    def _pickled_function(self, session: Session) -> DataObject:
        cache: dict[Remote, DataObject] = session.__dict__.setdefault(
            "_rain_remote_functions", {})
        obj = cache.get(self)
        if obj is None:
            buffer = io.BytesIO()
            _picklers()[1](buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(self.fn)
            obj = DataObject(self.name, session=session, content_type="cloudpickle")
            obj.data = buffer.getvalue()
            obj.keep()
            cache[self] = obj
        return obj

    def _outputs_for_call(self, output: OutputDecl,
                          outputs: Outputs) -> tuple[list[OutputBase | DataObject],
                                                     list[str | None]]:
        if output is not None and outputs is not None:
            raise RainException("give output= or outputs=, not both")
        if output is not None:
            outputs = [output]
        declared = self.outputs
        if outputs is None:
            items = list(declared)
        else:
            given = _output_items(outputs)
            if len(given) == len(declared):
                items = [_merge_output(d, g) for d, g in zip(declared, given)]
            else:
                items = [_as_output(g) for g in given]
        encode: list[str | None] = []
        result: list[OutputBase | DataObject] = []
        for i, item in enumerate(items):
            if isinstance(item, DataObject):
                encode.append(self.auto_encode)
                result.append(item)
                continue
            label = item.label if item.label is not None else f"out{i}"
            enc = item.encode if item.encode is not None else (
                self.auto_encode if item.content_type is None and
                item.DATA_TYPE == DataType.BLOB else None)
            if label != item.label or (enc is not None and item.encode is None):
                item = type(item)(label, size_hint=item.size_hint,
                                  content_type=enc or item.content_type,
                                  encode=enc, path=item.path)
            encode.append(enc)
            result.append(item)
        return result, encode

    def __call__(self, *args: Any, output: OutputDecl = None, outputs: Outputs = None,
                 **kwargs: Any) -> Task:
        """Creates the task. ``output=``/``outputs=`` override the declared outputs; ``name=``
        names this task (unless the function has a parameter ``name``: then it is that
        argument)."""
        task_name = self.name
        if "name" in kwargs and not self._has_name_parameter:
            task_name = kwargs.pop("name")
        call_policy = make_policy(**{key: kwargs.pop(key) for key in POLICY_KEYWORDS
                                     if key in kwargs and key not in self._parameter_names})
        policy = merge_policy(self.policy, call_policy) or {}
        session = get_active_session()
        argument_pickler = _picklers()[0]
        bound = self.signature.bind(None, *args, **kwargs)
        collector = _InputCollector(session)
        pickled: dict[str, str] = {}
        ctx_name = self._params[0].name
        for pname, value in bound.arguments.items():
            if pname == ctx_name:
                continue
            decl = self.inputs.get(pname)
            load = self.auto_load
            content_type = None
            if decl is not None:
                if decl.load is not None:
                    load = decl.load
                content_type = decl.content_type
            buffer = io.BytesIO()
            argument_pickler(buffer, collector, load, content_type).dump(value)
            data = buffer.getvalue()
            if len(data) > PICKLE_ARG_SIZE_LIMIT:
                # Rain 0.4's wording: users match on its start.
                raise RainWarning(
                    f"Pickled object {pname} length {len(data)} > {PICKLE_ARG_SIZE_LIMIT} "
                    f"(argument of {task_name!r}); pass large data as a data object (e.g. "
                    "blob(...)) instead")
            pickled[pname] = base64.b64encode(data).decode("ascii")
        out_items, encode = self._outputs_for_call(output, outputs)
        config: dict[str, Any] = {}
        if pickled:
            config["args"] = pickled
        if any(encode):
            config["encode"] = encode
        fn_obj = self._pickled_function(session)
        return Task([fn_obj] + collector.objects, out_items, config=config or None,
                    session=session, task_type=PY_TASK_TYPE, cpus=self.cpus, name=task_name,
                    **self.resource_request, **policy)

    def __repr__(self) -> str:
        return f"<Remote {getattr(self.fn, '__qualname__', self.fn)}>"


def _name_of(fn: Callable[..., Any]) -> str:
    # AttributeError for a callable without a name, as fn.__name__ gives.
    return getattr(fn, "__name__")


@overload
def remote(outputs: Callable[..., Any], /) -> Remote: ...


@overload
def remote(outputs: Outputs = None,
           inputs: Mapping[str, InputBase | None] | Sequence[InputBase | None] = (),
           auto_load: bool | None = None, auto_encode: str | None = None,
           name: str | None = None, cpus: int = 1, memory: int | str | None = None,
           gpus: float | None = None, resources: Mapping[str, float] | None = None,
           max_retries: int | None = None, retry_on: Any = None,
           time_limit: float | None = None,
           crash_limit: int | None = None) -> Callable[[Callable[..., Any]], Remote]: ...


def remote(outputs: Outputs | Callable[..., Any] = None,
           inputs: Mapping[str, InputBase | None] | Sequence[InputBase | None] = (),
           auto_load: bool | None = None, auto_encode: str | None = None,
           name: str | None = None, cpus: int = 1, memory: int | str | None = None,
           gpus: float | None = None, resources: Mapping[str, float] | None = None,
           max_retries: int | None = None, retry_on: Any = None,
           time_limit: float | None = None,
           crash_limit: int | None = None) -> Remote | Callable[[Callable[..., Any]], Remote]:
    """Decorator: ``@remote(...)`` makes a function create Python tasks (see ``Remote``)."""
    if callable(outputs) and not isinstance(outputs, (OutputBase, DataObject)):
        # Used bare, as ``@remote``.
        return Remote(outputs)

    def decorator(fn: Callable[..., Any]) -> Remote:
        return Remote(fn, inputs=inputs, outputs=outputs, auto_load=auto_load,
                      auto_encode=auto_encode, name=name, cpus=cpus, memory=memory,
                      gpus=gpus, resources=resources, max_retries=max_retries,
                      retry_on=retry_on, time_limit=time_limit, crash_limit=crash_limit)
    return decorator
