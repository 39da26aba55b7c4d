"""Content types: which format a blob's bytes are in, and how Python (de)serializes them.

Known types: None or "" (raw bytes), "pickle", "cloudpickle", "json", "cbor", "arrow", "text",
"text-<encoding>", "mime/<type>", "user/<type>", "protobuf" and "protobuf/<message>".
"""

from __future__ import annotations

import json
import pickle
from typing import Any

from .errors import RainException, import_optional, missing_package_error

_SIMPLE_TYPES = frozenset(("pickle", "cloudpickle", "json", "cbor", "arrow", "text", "protobuf"))
# Families whose members are "<prefix><something>"; the bare prefix is a type only for those
# listed in _SIMPLE_TYPES ("text", "protobuf").
_FAMILY_PREFIXES = ("text-", "mime/", "user/", "protobuf/")


def check_content_type(content_type: object) -> None:
    """Raises ``ValueError`` unless ``content_type`` is a known content type (or None/"")."""
    if content_type is None or content_type == "":
        return
    if not isinstance(content_type, str):
        raise ValueError(f"content type must be a string, not {content_type!r}")
    if content_type in _SIMPLE_TYPES:
        return
    for prefix in _FAMILY_PREFIXES:
        if content_type.startswith(prefix) and len(content_type) > len(prefix):
            return
    raise ValueError(f"unknown content type {content_type!r}")


def _is_refinement(general: str, specific: str) -> bool:
    """True if ``specific`` is a strictly more specific member of ``general``'s family."""
    if general == "pickle" and specific == "cloudpickle":
        return True
    return (specific.startswith(general)
            and len(specific) > len(general)
            and specific[len(general)] in "-/")


def is_subtype(content_type: str | None, declared: str | None) -> bool:
    """True if ``content_type`` may stand where ``declared`` was specified."""
    check_content_type(content_type)
    check_content_type(declared)
    if not declared:
        return True
    if not content_type:
        return False
    return content_type == declared or _is_refinement(declared, content_type)


def merge_content_types(first: str | None, second: str | None) -> str | None:
    """The content type satisfying both: None/"" yields the other; the more specific of a
    prefix pair wins ("text" + "text-latin2"); "pickle" + "cloudpickle" gives "cloudpickle".
    Anything else raises ``RainException``."""
    check_content_type(first)
    check_content_type(second)
    if not first:
        return second if second else first
    if not second or first == second:
        return first
    if _is_refinement(first, second):
        return second
    if _is_refinement(second, first):
        return first
    raise RainException(f"content types {first!r} and {second!r} are incompatible")


def _text_encoding(content_type: str) -> str:
    return content_type[len("text-"):] if content_type.startswith("text-") else "utf-8"


def _import_cbor() -> Any:
    return import_optional("cbor2", "content type 'cbor'")


def _import_arrow() -> Any:
    return import_optional("pyarrow", "content type 'arrow'")


# Schema metadata key marking an arrow table made from a plain Python value; its value says how
# load() gives the value back: b"list" (the "values" column as a list) or b"dict" (a dict of
# column lists). Tables without it load as pyarrow tables.
ARROW_PYTHON_KEY = b"rain.python"
ARROW_LIST_COLUMN = "values"


def _encode_arrow(value: Any) -> bytes:
    pa = _import_arrow()
    try:
        if isinstance(value, pa.RecordBatch):
            value = pa.Table.from_batches([value])
        elif isinstance(value, list):
            value = pa.table({ARROW_LIST_COLUMN: pa.array(value)},
                             metadata={ARROW_PYTHON_KEY: b"list"})
        elif isinstance(value, dict):
            value = pa.table(value, metadata={ARROW_PYTHON_KEY: b"dict"})
        elif not isinstance(value, pa.Table):
            value = pa.table(value)
    except (pa.ArrowException, TypeError) as error:
        raise RainException(
            f"cannot encode a {type(value).__name__} as arrow: {error}") from None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, value.schema) as writer:
        writer.write_table(value)
    return sink.getvalue().to_pybytes()


def _decode_arrow(data: Any) -> Any:
    pa = _import_arrow()
    table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    kind = (table.schema.metadata or {}).get(ARROW_PYTHON_KEY)
    if kind == b"list":
        return table.column(ARROW_LIST_COLUMN).to_pylist()
    if kind == b"dict":
        return table.to_pydict()
    return table


def encode_value(value: Any, content_type: str | None) -> bytes:
    """Serializes ``value`` into bytes in the format ``content_type``."""
    check_content_type(content_type)
    content_type = content_type or ""
    if content_type == "pickle":
        return pickle.dumps(value)
    if content_type == "cloudpickle":
        cloudpickle: Any = import_optional("cloudpickle", "content type 'cloudpickle'")
        return cloudpickle.dumps(value)
    if content_type == "json":
        return json.dumps(value).encode("utf-8")
    if content_type == "cbor":
        return _import_cbor().dumps(value)
    if content_type == "arrow":
        return _encode_arrow(value)
    if content_type == "text" or content_type.startswith("text-"):
        if not isinstance(value, str):
            raise RainException(
                f"content type {content_type!r} encodes a str, not {type(value).__name__}")
        return value.encode(_text_encoding(content_type))
    if content_type.startswith("protobuf") and hasattr(value, "SerializeToString"):
        return value.SerializeToString()
    # Opaque types (raw, mime/*, user/*, protobuf): bytes already are the encoding.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise RainException(f"values cannot be encoded as content type {content_type!r}")


def _unpickle(data: Any, content_type: str) -> Any:
    try:
        return pickle.loads(data)
    except ImportError as error:
        # Values cloudpickled by value (functions, classes) need cloudpickle to be rebuilt.
        if getattr(error, "name", None) == "cloudpickle" or "cloudpickle" in str(error):
            raise missing_package_error(
                "cloudpickle", f"loading {content_type!r} data") from None
        raise


def decode_value(data: Any, content_type: str | None) -> Any:
    """Deserializes ``data`` (bytes) stored in the format ``content_type``."""
    check_content_type(content_type)
    if not content_type:
        raise RainException("the data has no content type, so it cannot be decoded")
    if content_type in ("pickle", "cloudpickle"):
        return _unpickle(data, content_type)
    if content_type == "json":
        return json.loads(bytes(data).decode("utf-8"))
    if content_type == "cbor":
        return _import_cbor().loads(data)
    if content_type == "arrow":
        return _decode_arrow(data)
    if content_type == "text" or content_type.startswith("text-"):
        return bytes(data).decode(_text_encoding(content_type))
    raise RainException(f"content type {content_type!r} cannot be decoded in Python")
