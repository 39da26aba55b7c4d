"""Python tasks (``@remote``, task type ``py/``): input 0 is the cloudpickled function, the
config holds each bound argument cloudpickled (base64 in the JSON config), with every data object
inside replaced by a placeholder ``(input index, load, content type)``.

The unpickled function is kept per session (the governor then sends it as ``cached``).
"""

import base64
import inspect
import io
import pickle
import sys
import traceback

from ..common.content_type import is_subtype
from ..common.errors import RainException, missing_package_error
from .executor import TaskError


class _ArgumentUnpickler(pickle.Unpickler):
    def __init__(self, data, resolve):
        super().__init__(io.BytesIO(data))
        self._resolve = resolve

    def persistent_load(self, pid):
        return self._resolve(pid)


def _function(ctx):
    executor = ctx._executor
    instance = ctx.inputs[0] if ctx.inputs else None
    if instance is None:
        raise TaskError("a Python task needs its function as input 0")
    key = (instance.spec.id[0], instance.spec.id[1])
    entry = executor.kept.get(key)
    if entry is None:
        if not hasattr(instance, "get_bytes"):
            raise TaskError("the governor sent the function as cached, but it is not kept")
        try:
            fn = pickle.loads(instance.get_bytes())
        except ImportError as e:
            if getattr(e, "name", None) != "cloudpickle":
                raise TaskError("cannot unpickle the function of the task: {}: {}\n{}".format(
                    type(e).__name__, e, traceback.format_exc().rstrip())) from None
            # A function pickled by value (a lambda, a local or __main__ function) needs
            # cloudpickle here; one of an importable module does not.
            raise TaskError("cannot unpickle the function of the task: {} (the executor's "
                            "Python: {})".format(
                                missing_package_error("cloudpickle", "a function pickled by "
                                                      "value"), sys.executable)) from None
        except BaseException as e:
            raise TaskError("cannot unpickle the function of the task: {}: {}\n{}".format(
                type(e).__name__, e, traceback.format_exc().rstrip())) from None
        if not callable(fn):
            raise TaskError("input 0 of a Python task is not a function but {}"
                            .format(type(fn).__name__))
        entry = (fn, inspect.signature(fn))
        executor.kept[key] = entry
        ctx._keep.append(0)
    return entry


def run_remote(ctx):
    """The ``py`` executor's method "": calls the task's function."""
    fn, signature = _function(ctx)
    ctx.function = fn
    config = ctx.config or {}
    encode = config.get("encode")
    if encode:
        ctx._encode = encode
    args = config.get("args")
    if not args:
        call_args, call_kwargs = (ctx,), {}
    else:
        loaded = {}
        inputs = ctx.inputs

        def resolve(pid):
            index, load, content_type = pid
            instance = inputs[index]
            if content_type:
                actual = instance.content_type
                if not actual:
                    instance._content_type = content_type
                elif not is_subtype(actual, content_type):
                    raise RainException(
                        "input {} ({}/{}) has content type {!r}, but {!r} was asked".format(
                            index, instance.spec.id[0], instance.spec.id[1], actual,
                            content_type))
            if not load:
                return instance
            value = loaded.get(index, loaded)
            if value is loaded:
                value = loaded[index] = instance.load()
            return value

        arguments = {next(iter(signature.parameters)): ctx}
        for name, encoded in args.items():
            try:
                arguments[name] = _ArgumentUnpickler(base64.b64decode(encoded), resolve).load()
            except RainException as e:
                raise TaskError(str(e)) from None
            except BaseException as e:
                raise TaskError("cannot unpickle argument {!r}: {}: {}\n{}".format(
                    name, type(e).__name__, e, traceback.format_exc().rstrip())) from None
        bound = inspect.BoundArguments(signature, arguments)
        call_args, call_kwargs = bound.args, bound.kwargs
    try:
        return fn(*call_args, **call_kwargs)
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        tb = e.__traceback__.tb_next  # from the function's own frame on
        raise TaskError("".join(traceback.format_exception(type(e), e, tb)).rstrip()) \
            from None
