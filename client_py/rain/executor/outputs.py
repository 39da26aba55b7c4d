"""Turning what a task returned into the outputs of a `result` answer."""

# The executor's parts share DataInstance's underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..common.content_type import encode_value, is_subtype
from ..common.data_instance import DataInstance
from ..common.data_type import DataType
from ..common.errors import RainException
from ..common.labeled_list import LabeledList


# An output's spec as the governor sends it (an ObjectSpec as JSON).
_Spec = dict[str, Any]


def _describe(index: int, spec: _Spec) -> str:
    label = spec.get("label")
    return f"output {index}{f' ({label!r})' if label is not None else ''}"


def split_outputs(value: Any, specs: Sequence[_Spec]) -> list[Any]:
    """The returned ``value`` as one value per output spec: the value itself for one output
    (whatever it is), a sequence (list, tuple, LabeledList) or a dict by label for several,
    None for none."""
    n = len(specs)
    if n == 0:
        if value is not None:
            raise RainException(f"the task has no outputs, but returned {type(value).__name__}")
        return []
    if n == 1:
        return [value]
    if isinstance(value, dict):
        labels = [s.get("label") for s in specs]
        if set(value) != set(labels) or len(value) != n:
            keys = sorted(map(repr, value))
            raise RainException(f"the task returned a dict with keys {keys}, but its outputs are "
                                f"labelled {[repr(lb) for lb in labels]}")
        return [value[lb] for lb in labels]
    if isinstance(value, (list, tuple, LabeledList)):
        values = list(value)
        if len(values) != n:
            raise RainException(f"the task returned {len(values)} values, but has {n} outputs")
        return values
    raise RainException(f"the task has {n} outputs, so it must return a sequence or a dict by "
                        f"label, not {type(value).__name__}")


def encode_output(index: int, value: Any, spec: _Spec, encode: str | None,
                  input_index: dict[int, int], parts: list[Any]) -> dict[str, Any]:
    """The protocol entry of one output (adding inline data to ``parts``)."""
    declared = spec.get("content_type")
    blob = spec.get("data_type", "blob") == "blob"
    what = _describe(index, spec)
    entry: dict[str, Any]
    if isinstance(value, DataInstance):
        entry = {}
        content_type = value.content_type
        position = input_index.get(id(value))
        if position is not None:
            entry["input"] = position
        elif value._path is not None:
            if not getattr(value, "_staged", False):
                raise RainException(f"{what}: a file-backed DataInstance must come from "
                                    "ctx.stage_file() or ctx.stage_directory()")
            entry["path"] = value._path
        else:
            if not blob:
                raise RainException(f"{what} is a directory; return ctx.stage_directory(path)")
            entry["part"] = len(parts)
            parts.append(value._data)
        wanted = DataType.BLOB if blob else DataType.DIRECTORY
        if value.data_type != wanted:
            raise RainException(
                f"{what} is a {wanted.value}, but a {value.data_type.value} was returned")
        if content_type:
            if not is_subtype(content_type, declared):
                raise RainException(
                    f"{what} has content type {content_type!r}, but {declared!r} was declared")
            entry["content_type"] = content_type
        info = value.info
        if info is not None and (info.user or info.debug):
            entry["info"] = {k: v for k, v in (("user", info.user), ("debug", info.debug)) if v}
        return entry
    if not blob:
        raise RainException(
            f"{what} is a directory; return ctx.stage_directory(path), not {type(value).__name__}")
    if encode:
        data = encode_value(value, encode)
        content_type = encode
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = value
        content_type = None
    elif isinstance(value, str):
        if not declared:
            content_type = "text"
            data = value.encode("utf-8")
        elif declared.startswith("text-"):
            content_type = declared
            data = value.encode(declared[5:])
        else:
            content_type = declared
            data = value.encode("utf-8")
    else:
        raise RainException(
            f"{what}: cannot return a value of type {type(value).__name__}; return bytes, str or "
            "a DataInstance, or declare the output with Output(encode=...)")
    entry = {"part": len(parts)}
    parts.append(data)
    if content_type:
        if not is_subtype(content_type, declared):
            raise RainException(
                f"{what} has content type {content_type!r}, but {declared!r} was declared")
        entry["content_type"] = content_type
    return entry
