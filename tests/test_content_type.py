"""Content types: validation, encode/decode of each type, merging and sub-types."""

import pickle
import sys

import cloudpickle
import pytest

from rain.common import RainException
from rain.common.content_type import (check_content_type, decode_value, encode_value,
                                      is_subtype, merge_content_types)

KNOWN = [None, "", "pickle", "cloudpickle", "json", "cbor", "arrow", "text", "text-latin2",
         "text-utf-16", "mime/image/png", "user/my-format", "protobuf", "protobuf/my.Message"]
UNKNOWN = ["xml", "Text", "text-", "mime/", "user/", "protobufx", "pickle2", "json/x", 42]


@pytest.mark.parametrize("content_type", KNOWN)
def test_known_types_are_accepted(content_type):
    check_content_type(content_type)


@pytest.mark.parametrize("content_type", UNKNOWN)
def test_unknown_types_raise_value_error(content_type):
    with pytest.raises(ValueError, match="unknown content type|content type must be a string"):
        check_content_type(content_type)
    with pytest.raises(ValueError, match="unknown content type|content type must be a string"):
        encode_value(b"x", content_type)
    with pytest.raises(ValueError, match="unknown content type|content type must be a string"):
        decode_value(b"x", content_type)
    with pytest.raises(ValueError, match="unknown content type|content type must be a string"):
        merge_content_types(content_type, "json")


VALUE = {"numbers": [1, 2.5, None], "text": "žluťoučký", "flag": True}


@pytest.mark.parametrize("content_type", ["pickle", "cloudpickle", "json", "cbor"])
def test_roundtrip_of_serializing_types(content_type):
    data = encode_value(VALUE, content_type)
    assert isinstance(data, bytes)
    assert decode_value(data, content_type) == VALUE


def test_pickle_and_json_encodings_are_the_standard_ones():
    assert encode_value([1, 2], "json") == b"[1, 2]"
    assert pickle.loads(encode_value([1, 2], "pickle")) == [1, 2]
    function = lambda x: x * 3  # noqa: E731 - cloudpickle handles what pickle cannot
    assert pickle.loads(encode_value(function, "cloudpickle"))(2) == 6
    assert decode_value(cloudpickle.dumps({1}), "cloudpickle") == {1}


def test_text_types():
    assert encode_value("žluť", "text") == "žluť".encode("utf-8")
    assert encode_value("žluť", "text-latin2") == "žluť".encode("latin2")
    assert decode_value("žluť".encode("latin2"), "text-latin2") == "žluť"
    assert decode_value(b"abc", "text") == "abc"
    with pytest.raises(RainException, match="encodes a str, not bytes"):
        encode_value(b"bytes are not text", "text")


def test_opaque_types_pass_bytes_and_cannot_decode():
    for content_type in (None, "", "mime/image/png", "user/x", "protobuf/x.Y"):
        assert encode_value(b"\x00raw", content_type) == b"\x00raw"
        with pytest.raises(RainException, match="values cannot be encoded as content type"):
            encode_value({"not": "bytes"}, content_type)
        with pytest.raises(RainException, match="cannot be decoded"):
            decode_value(b"\x00raw", content_type)


def test_protobuf_messages_are_serialized():
    class Message:
        def SerializeToString(self):
            return b"\x08\x01"
    assert encode_value(Message(), "protobuf/Message") == b"\x08\x01"


def test_arrow_without_pyarrow_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` fail
    with pytest.raises(RainException, match="needs the Python package pyarrow: pip install"):
        encode_value({"a": [1]}, "arrow")
    with pytest.raises(RainException, match="pyarrow"):
        decode_value(b"", "arrow")


def test_cbor_without_cbor2_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cbor2", None)
    with pytest.raises(RainException, match="needs the Python package cbor2: pip install cbor2 "
                       r"\(Debian: apt-get install python3-cbor2\)"):
        encode_value([1], "cbor")


@pytest.mark.parametrize("first, second, merged", [
    (None, None, None),
    (None, "json", "json"),
    ("json", None, "json"),
    ("", "text", "text"),
    ("json", "json", "json"),
    ("text", "text-latin2", "text-latin2"),
    ("text-latin2", "text", "text-latin2"),
    ("pickle", "cloudpickle", "cloudpickle"),
    ("cloudpickle", "pickle", "cloudpickle"),
    ("protobuf", "protobuf/a.B", "protobuf/a.B"),
])
def test_merge(first, second, merged):
    assert merge_content_types(first, second) == merged


@pytest.mark.parametrize("first, second", [
    ("json", "pickle"), ("text", "json"), ("text-latin2", "text-utf-8"),
    ("mime/a", "mime/b"), ("user/a", "text"), ("cbor", "cloudpickle"),
])
def test_merge_of_incompatible_types_raises(first, second):
    with pytest.raises(RainException, match="are incompatible"):
        merge_content_types(first, second)


def test_subtypes():
    assert is_subtype("json", None)
    assert is_subtype("text-latin2", "text")
    assert is_subtype("cloudpickle", "pickle")
    assert is_subtype("json", "json")
    assert not is_subtype("text", "text-latin2")
    assert not is_subtype(None, "json")
    assert not is_subtype("json", "text")
