"""Turning what a task returned into the outputs of a `result` answer."""

from ..common.content_type import encode_value, is_subtype
from ..common.data_instance import DataInstance
from ..common.data_type import DataType
from ..common.errors import RainException
from ..common.labeled_list import LabeledList


def _describe(index, spec):
    label = spec.get("label")
    return "output {}{}".format(index, " ({!r})".format(label) if label is not None else "")


def split_outputs(value, specs):
    """The returned ``value`` as one value per output spec: the value itself for one output
    (whatever it is), a sequence (list, tuple, LabeledList) or a dict by label for several,
    None for none."""
    n = len(specs)
    if n == 0:
        if value is not None:
            raise RainException("the task has no outputs, but returned {}"
                                .format(type(value).__name__))
        return []
    if n == 1:
        return [value]
    if isinstance(value, dict):
        labels = [s.get("label") for s in specs]
        if set(value) != set(labels) or len(value) != n:
            raise RainException("the task returned a dict with keys {}, but its outputs are "
                                "labelled {}".format(sorted(map(repr, value)),
                                                     [repr(lb) for lb in labels]))
        return [value[lb] for lb in labels]
    if isinstance(value, (list, tuple, LabeledList)):
        values = list(value)
        if len(values) != n:
            raise RainException("the task returned {} values, but has {} outputs"
                                .format(len(values), n))
        return values
    raise RainException("the task has {} outputs, so it must return a sequence or a dict by "
                        "label, not {}".format(n, type(value).__name__))


def encode_output(index, value, spec, encode, input_index, parts):
    """The protocol entry of one output (adding inline data to ``parts``)."""
    declared = spec.get("content_type")
    blob = spec.get("data_type", "blob") == "blob"
    what = _describe(index, spec)
    if isinstance(value, DataInstance):
        entry = {}
        content_type = value.content_type
        position = input_index.get(id(value))
        if position is not None:
            entry["input"] = position
        elif value._path is not None:
            if not getattr(value, "_staged", False):
                raise RainException("{}: a file-backed DataInstance must come from "
                                    "ctx.stage_file() or ctx.stage_directory()".format(what))
            entry["path"] = value._path
        else:
            if not blob:
                raise RainException("{} is a directory; return ctx.stage_directory(path)"
                                    .format(what))
            entry["part"] = len(parts)
            parts.append(value._data)
        wanted = DataType.BLOB if blob else DataType.DIRECTORY
        if value.data_type != wanted:
            raise RainException("{} is a {}, but a {} was returned".format(
                what, wanted.value, value.data_type.value))
        if content_type:
            if not is_subtype(content_type, declared):
                raise RainException("{} has content type {!r}, but {!r} was declared"
                                    .format(what, content_type, declared))
            entry["content_type"] = content_type
        info = value.info
        if info is not None and (info.user or info.debug):
            entry["info"] = {k: v for k, v in (("user", info.user), ("debug", info.debug)) if v}
        return entry
    if not blob:
        raise RainException("{} is a directory; return ctx.stage_directory(path), not {}"
                            .format(what, type(value).__name__))
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
            "{}: cannot return a value of type {}; return bytes, str or a DataInstance, or "
            "declare the output with Output(encode=...)".format(what, type(value).__name__))
    entry = {"part": len(parts)}
    parts.append(data)
    if content_type:
        if not is_subtype(content_type, declared):
            raise RainException("{} has content type {!r}, but {!r} was declared"
                                .format(what, content_type, declared))
        entry["content_type"] = content_type
    return entry
