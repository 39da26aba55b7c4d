"""A small MessagePack encoder and decoder (https://msgpack.org/), stdlib only.

The client needs MessagePack only for the frames of compact submits (rpc/compact.py): a few
values per frame, their bulk in ``bin`` columns, so a plain recursive encoder is fast enough. The
decoder exists for tests and tools that read such frames back.
"""

from __future__ import annotations

import struct
from typing import Any

from ...common.errors import RainException

_pack_u8 = struct.Struct(">B").pack
_pack_u16 = struct.Struct(">H").pack
_pack_u32 = struct.Struct(">I").pack
_pack_u64 = struct.Struct(">Q").pack
_pack_f64 = struct.Struct(">d").pack


def packb(value: Any) -> bytes:
    """``value`` (None, bool, int, float, str, bytes, list/tuple, dict with str keys) as
    MessagePack."""
    out: list[bytes] = []
    _pack(value, out)
    return b"".join(out)


def _length(n: int, fix_base: int | None, fix_max: int, code8: int | None, code16: int,
            code32: int, out: list[bytes]) -> None:
    if fix_base is not None and n <= fix_max:
        out.append(_pack_u8(fix_base | n))
    elif code8 is not None and n < 1 << 8:
        out.append(bytes((code8, n)))
    elif n < 1 << 16:
        out.append(bytes((code16,)) + _pack_u16(n))
    elif n < 1 << 32:
        out.append(bytes((code32,)) + _pack_u32(n))
    else:
        raise RainException(f"a MessagePack value of {n} items or bytes is too large")


def _pack(value: Any, out: list[bytes]) -> None:
    if value is None:
        out.append(b"\xc0")
    elif value is True:
        out.append(b"\xc3")
    elif value is False:
        out.append(b"\xc2")
    elif isinstance(value, int):
        _pack_int(value, out)
    elif isinstance(value, float):
        out.append(b"\xcb" + _pack_f64(value))
    elif isinstance(value, str):
        data = value.encode("utf-8")
        _length(len(data), 0xa0, 31, 0xd9, 0xda, 0xdb, out)
        out.append(data)
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
        _length(len(data), None, 0, 0xc4, 0xc5, 0xc6, out)
        out.append(data)
    elif isinstance(value, (list, tuple)):
        items: list[Any] | tuple[Any, ...] = value  # pyright: ignore[reportUnknownVariableType]
        _length(len(items), 0x90, 15, None, 0xdc, 0xdd, out)
        for item in items:
            _pack(item, out)
    elif isinstance(value, dict):
        entries: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        _length(len(entries), 0x80, 15, None, 0xde, 0xdf, out)
        for key, item in entries.items():
            if not isinstance(key, str):
                raise RainException(f"MessagePack map keys must be str here, not {key!r}")
            _pack(key, out)
            _pack(item, out)
    else:
        raise RainException(f"cannot encode {type(value).__name__} as MessagePack")


def _pack_int(value: int, out: list[bytes]) -> None:
    if 0 <= value < 128:
        out.append(_pack_u8(value))
    elif -32 <= value < 0:
        out.append(_pack_u8(value & 0xff))
    elif 0 <= value < 1 << 64:
        out.append(b"\xcf" + _pack_u64(value))
    elif -(1 << 63) <= value < 0:
        out.append(b"\xd3" + struct.pack(">q", value))
    else:
        raise RainException(f"integer {value} does not fit in 64 bits")


def unpackb(data: bytes) -> Any:
    """One MessagePack value (the whole of ``data``): the inverse of ``packb``."""
    value, end = _unpack(memoryview(data), 0)
    if end != len(data):
        raise RainException(f"{len(data) - end} bytes after the MessagePack value")
    return value


def _unpack(data: memoryview, at: int) -> tuple[Any, int]:
    code = data[at]
    at += 1
    if code < 0x80:
        return code, at
    if code >= 0xe0:
        return code - 0x100, at
    if 0x80 <= code <= 0x8f:
        return _unpack_map(data, at, code & 0x0f)
    if 0x90 <= code <= 0x9f:
        return _unpack_array(data, at, code & 0x0f)
    if 0xa0 <= code <= 0xbf:
        n = code & 0x1f
        return bytes(data[at:at + n]).decode("utf-8"), at + n
    fixed = {0xc0: None, 0xc2: False, 0xc3: True}
    if code in fixed:
        return fixed[code], at
    sizes = {0xc4: 1, 0xc5: 2, 0xc6: 4, 0xd9: 1, 0xda: 2, 0xdb: 4, 0xdc: 2, 0xdd: 4, 0xde: 2,
             0xdf: 4}
    if code in sizes:
        width = sizes[code]
        n = int.from_bytes(data[at:at + width], "big")
        at += width
        if code in (0xc4, 0xc5, 0xc6):
            return bytes(data[at:at + n]), at + n
        if code in (0xd9, 0xda, 0xdb):
            return bytes(data[at:at + n]).decode("utf-8"), at + n
        if code in (0xdc, 0xdd):
            return _unpack_array(data, at, n)
        return _unpack_map(data, at, n)
    numbers = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h",
               0xd2: ">i", 0xd3: ">q", 0xca: ">f", 0xcb: ">d"}
    if code in numbers:
        layout = struct.Struct(numbers[code])
        return layout.unpack_from(data, at)[0], at + layout.size
    raise RainException(f"MessagePack type 0x{code:02x} is not supported here")


def _unpack_array(data: memoryview, at: int, n: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    for _ in range(n):
        item, at = _unpack(data, at)
        items.append(item)
    return items, at


def _unpack_map(data: memoryview, at: int, n: int) -> tuple[dict[Any, Any], int]:
    entries: dict[Any, Any] = {}
    for _ in range(n):
        key, at = _unpack(data, at)
        entries[key], at = _unpack(data, at)
    return entries, at
