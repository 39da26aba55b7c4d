"""Python tasks (``@remote``, task type ``py/``): input 0 is the cloudpickled function, the
config holds each bound argument cloudpickled (base64 in the JSON config), with every data object
inside replaced by a placeholder ``(input index, load, content type)``.

The unpickled function is kept per session (the governor then sends it as ``cached``).
"""

# The executor's parts share the context's underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import base64
import inspect
import io
import pickle
import sys
import traceback
from collections.abc import Callable
from typing import Any

from ..common.content_type import is_subtype
from ..common.data_instance import DataInstance
from ..common.errors import RainException, missing_package_error
from .context import Context
from .executor import TaskError, exception_types

# A task's function and its signature, kept per session.
_Function = tuple[Callable[..., Any], inspect.Signature]


class _ArgumentUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, resolve: Callable[[Any], Any]) -> None:
        super().__init__(io.BytesIO(data))
        self._resolve = resolve

    def persistent_load(self, pid: Any) -> Any:
        return self._resolve(pid)


def _function(ctx: Context) -> _Function:
    executor = ctx._executor
    instance: DataInstance | None = ctx.inputs[0] if ctx.inputs else None
    if instance is None:
        raise TaskError("a Python task needs its function as input 0")
    assert instance.spec is not None and instance.spec.id is not None  # inputs have specs
    key = (instance.spec.id[0], instance.spec.id[1])
    entry: _Function | None = executor.kept.get(key)
    if entry is None:
        if not hasattr(instance, "get_bytes"):
            raise TaskError("the governor sent the function as cached, but it is not kept")
        try:
            fn = pickle.loads(instance.get_bytes())
        except ImportError as e:
            if getattr(e, "name", None) != "cloudpickle":
                raise TaskError(f"cannot unpickle the function of the task: {type(e).__name__}: "
                                f"{e}\n{traceback.format_exc().rstrip()}") from None
            # A function pickled by value (a lambda, a local or __main__ function) needs
            # cloudpickle here; one of an importable module does not.
            missing = missing_package_error("cloudpickle", "a function pickled by value")
            raise TaskError(f"cannot unpickle the function of the task: {missing} (the "
                            f"executor's Python: {sys.executable})") from None
        except BaseException as e:
            raise TaskError(f"cannot unpickle the function of the task: {type(e).__name__}: "
                            f"{e}\n{traceback.format_exc().rstrip()}") from None
        if not callable(fn):
            raise TaskError(f"input 0 of a Python task is not a function but {type(fn).__name__}")
        entry = (fn, inspect.signature(fn))
        executor.kept[key] = entry
        ctx._keep.append(0)
    return entry


def run_remote(ctx: Context) -> Any:
    """The ``py`` executor's method "": calls the task's function."""
    fn, signature = _function(ctx)
    ctx.function = fn
    config = ctx.config or {}
    encode = config.get("encode")
    if encode:
        ctx._encode = encode
    args = config.get("args")
    call_args: tuple[Any, ...]
    call_kwargs: dict[str, Any]
    if not args:
        call_args, call_kwargs = (ctx,), {}
    else:
        loaded: dict[int, Any] = {}
        inputs = ctx.inputs

        def resolve(pid: Any) -> Any:
            index, load, content_type = pid
            instance = inputs[index]
            if content_type:
                actual = instance.content_type
                if not actual:
                    instance._content_type = content_type
                elif not is_subtype(actual, content_type):
                    raise RainException(
                        f"input {index} ({instance.spec.id[0]}/{instance.spec.id[1]}) has "
                        f"content type {actual!r}, but {content_type!r} was asked")
            if not load:
                return instance
            value = loaded.get(index, loaded)
            if value is loaded:
                value = loaded[index] = instance.load()
            return value

        arguments: dict[str, Any] = {next(iter(signature.parameters)): ctx}
        for name, encoded in args.items():
            try:
                arguments[name] = _ArgumentUnpickler(base64.b64decode(encoded), resolve).load()
            except RainException as e:
                raise TaskError(str(e)) from None
            except BaseException as e:
                raise TaskError(f"cannot unpickle argument {name!r}: {type(e).__name__}: {e}\n"
                                f"{traceback.format_exc().rstrip()}") from None
        bound = inspect.BoundArguments(signature, arguments)
        call_args, call_kwargs = bound.args, bound.kwargs
    try:
        return fn(*call_args, **call_kwargs)
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        # From the function's own frame on (this frame is always there: the call is in it).
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        error = TaskError("".join(traceback.format_exception(type(e), e, tb)).rstrip())
        error.exception_types = exception_types(e)  # the function's, for policy.retry_on
        raise error from None
