"""idl.ttypes spells thriftpy2's type codes so that reading IDL does not import thriftpy2: they must agree."""

from __future__ import annotations

from thriftpy2.thrift import TType

from thriftbox.idl import ttypes
from thriftbox.idl.model import Kind


def test_the_type_codes_are_thriftpy2s() -> None:
    for name in (
        "BOOL",
        "BYTE",
        "DOUBLE",
        "I16",
        "I32",
        "I64",
        "STRING",
        "STRUCT",
        "MAP",
        "SET",
        "LIST",
        "BINARY",
    ):
        assert getattr(ttypes, name) == getattr(TType, name), name


def test_binary_and_uuid_travel_as_strings() -> None:
    assert ttypes.SPEC_TTYPES[Kind.BINARY] == TType.BINARY
    assert ttypes.WIRE_TTYPES[Kind.BINARY] == ttypes.WIRE_TTYPES[Kind.UUID] == TType.STRING
    assert {k: v for k, v in ttypes.WIRE_TTYPES.items() if v != TType.STRING} == {
        k: v for k, v in ttypes.SPEC_TTYPES.items() if v not in (TType.STRING, TType.BINARY)
    }
