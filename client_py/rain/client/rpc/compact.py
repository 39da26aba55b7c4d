"""The compact submit body, ``application/x-rain-submit+msgpack`` (docs/protocol.md).

A sequence of frames, each a 4-byte big-endian length and one MessagePack map, ended by a length
of 0; then the constants' data in object order, as in the JSON body. A frame holds the columns of
up to ``FRAME_ITEMS`` objects or tasks: ids and indexes as little-endian uint32 ``bin`` columns,
and the rare irregular fields (configs, names, labels of inputs, policies, ...) as one JSON text
of ``[[position, {field: value}], ...]``. Every object frame comes before the first task frame.

Why columns of ``bin`` rather than one MessagePack value per task: Python's ``array`` turns a list
of ints into bytes in C, and ``json`` (C) encodes the irregular fields, so the pure-Python
MessagePack encoder only ever sees a dozen values per frame. A Concat of two constants costs about
75 bytes (against ~300 in JSON) and ~1 µs to encode.
"""

# The modules of rain.client share their objects' underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import json
import struct
import sys
from array import array
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ...common.data_type import DataType
from .framing import body_chunks
from .msgpack import packb

if TYPE_CHECKING:
    from ..data import DataObject
    from ..task import Task

COMPACT_SUBMIT_CONTENT_TYPE = "application/x-rain-submit+msgpack"
# Objects or tasks per frame: the server decodes, checks and drops one frame at a time.
FRAME_ITEMS = 16384

_LITTLE = sys.byteorder == "little"
_END = struct.pack(">I", 0)


# The array type code of 4-byte unsigned ints ("I" on every common platform).
_U32 = "I" if array("I").itemsize == 4 else "L"


def _u32(values: list[int]) -> bytes:
    column = array(_U32, values)
    if not _LITTLE:
        column.byteswap()
    return column.tobytes()


def _f64(values: list[float]) -> bytes:
    column = array("d", values)
    if not _LITTLE:
        column.byteswap()
    return column.tobytes()


def _frame(value: dict[str, Any]) -> bytes:
    data = packb(value)
    return struct.pack(">I", len(data)) + data


def encode_submit(tasks: Sequence[Task], objects: Sequence[DataObject]
                  ) -> tuple[int, Iterator[bytes]]:
    """The compact body of a submit: ``(total_length, iterable of bytes chunks)``."""
    frames: list[bytes] = []
    constants: list[bytes] = []
    for start in range(0, len(objects), FRAME_ITEMS):
        frame, data = _objects_frame(objects[start:start + FRAME_ITEMS])
        frames.append(frame)
        constants += data
    for start in range(0, len(tasks), FRAME_ITEMS):
        frames.append(_tasks_frame(tasks[start:start + FRAME_ITEMS]))
    frames.append(_END)
    prefix = b"".join(frames)
    return len(prefix) + sum(map(len, constants)), body_chunks(prefix, constants)


def _objects_frame(chunk: Sequence[DataObject]) -> tuple[bytes, list[bytes]]:
    directory = DataType.DIRECTORY
    labels: dict[str | None, int] = {None: 0}  # label -> 1-based index into strings; 0: none
    frame: dict[str, Any] = {
        "objects": len(chunk),
        "ids": _u32([obj.id[1] for obj in chunk]),
        "flags": bytes([(obj._data_type is directory) | (obj._keep << 1)
                        | ((obj.data is not None) << 2) for obj in chunk]),
        "labels": _u32([labels.setdefault(obj._label, len(labels))
                        for obj in chunk]),
    }
    data = [obj.data for obj in chunk if obj.data is not None]
    if data:
        frame["sizes"] = _f64([float(len(d)) for d in data])
    extra: list[list[Any]] = []
    for position, obj in enumerate(chunk):
        spec = obj._spec
        if spec is not None:
            # Made when asked for, maybe changed since: it is what is submitted (where it
            # differs from the columns).
            fields: dict[str, Any] = {}
            if spec.label != obj._label:
                fields["label"] = spec.label
            if spec.data_type is not obj._data_type:
                fields["data_type"] = spec.data_type.value
            if spec.content_type:
                fields["content_type"] = spec.content_type
            if spec.user:
                fields["user"] = spec.user
            if fields:
                extra.append([position, fields])
        elif obj._content_type:
            extra.append([position, {"content_type": obj._content_type}])
    if extra:
        frame["extra"] = json.dumps(extra, separators=(",", ":"))
    frame["strings"] = list(labels)[1:]
    return _frame(frame), data


def _tasks_frame(chunk: Sequence[Task]) -> bytes:
    types: dict[str, int] = {}
    if any(task._spec is not None for task in chunk):
        return _tasks_frame_from_fields([_task_fields(task) for task in chunk])
    frame: dict[str, Any] = {
        "tasks": len(chunk),
        "ids": _u32([task.id[1] for task in chunk]),
        "types": _u32([types.setdefault(task._task_type, len(types))
                       for task in chunk]),
        "input_counts": _u32([len(task._in) for task in chunk]),
        "inputs": _u32([obj.id[1] for task in chunk for obj in task._in]),
        "output_counts": _u32([len(task._out) for task in chunk]),
        "outputs": _u32([obj.id[1] for task in chunk for obj in task._out]),
    }
    extra = [[position, _task_extra(task)] for position, task in enumerate(chunk)
             if task._config is not None or task._name or task._user
             or task._policy or task._in_labels is not None
             or task._resources != _ONE_CPU]
    if extra:
        frame["extra"] = json.dumps(extra, separators=(",", ":"))
    frame["strings"] = list(types)
    return _frame(frame)


_ONE_CPU = {"cpus": 1}


def optional_fields(out: dict[str, Any], config: Any, name: str | None, user: Any,
                    policy: Any) -> dict[str, Any]:
    """Adds a task's optional submit fields that are set (both encodings send the same)."""
    if config is not None:
        out["config"] = config
    if name:
        out["name"] = name
    if user:
        out["user"] = user
    if policy:
        out["policy"] = policy
    return out


def _task_extra(task: Task) -> dict[str, Any]:
    """The irregular fields of a task without a spec object."""
    fields = optional_fields({}, task._config, task._name, task._user, task._policy)
    if task._in_labels is not None:
        fields["input_labels"] = task._in_labels
    if task._resources != _ONE_CPU:
        fields["resources"] = task._resources
    return fields


# (id, task type, input ids, output ids, irregular fields) of one task.
_TaskFields = tuple[int, str, list[int], list[int], dict[str, Any]]


def _task_fields(task: Task) -> _TaskFields:
    spec = task._spec
    if spec is None:
        return (task.id[1], task._task_type, [obj.id[1] for obj in task._in],
                [obj.id[1] for obj in task._out], _task_extra(task))
    # Made when asked for, maybe changed since: it is what is submitted.
    fields = optional_fields({}, spec.config, spec.name, spec.user, spec.policy)
    if any(i.label is not None for i in spec.inputs):
        fields["input_labels"] = [i.label for i in spec.inputs]
    if spec.resources != _ONE_CPU:
        fields["resources"] = spec.resources
    assert spec.id is not None and spec.task_type is not None
    return (spec.id[1], spec.task_type, [i.id[1] for i in spec.inputs],
            [o[1] for o in spec.outputs], fields)


def _tasks_frame_from_fields(tasks: list[_TaskFields]) -> bytes:
    types: dict[str, int] = {}
    frame: dict[str, Any] = {
        "tasks": len(tasks),
        "ids": _u32([t[0] for t in tasks]),
        "types": _u32([types.setdefault(t[1], len(types)) for t in tasks]),
        "input_counts": _u32([len(t[2]) for t in tasks]),
        "inputs": _u32([i for t in tasks for i in t[2]]),
        "output_counts": _u32([len(t[3]) for t in tasks]),
        "outputs": _u32([o for t in tasks for o in t[3]]),
    }
    extra = [[position, t[4]] for position, t in enumerate(tasks) if t[4]]
    if extra:
        frame["extra"] = json.dumps(extra, separators=(",", ":"))
    frame["strings"] = list(types)
    return _frame(frame)
