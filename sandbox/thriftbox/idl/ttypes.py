"""Small facts about Thrift types that several layers check against: integer ranges and type codes.

``SPEC_TTYPES`` is the type code a kind has in thriftpy2's ``thrift_spec`` (``BINARY`` marks a field whose value
stays bytes); ``WIRE_TTYPES`` is the code that kind travels as, where binary and uuid are strings. The codes are
thriftpy2's ``TType`` numbers, spelled here so that reading IDL does not import thriftpy2 (a test pins them).
"""

from __future__ import annotations

from thriftbox.idl.model import Kind

INT_RANGES: dict[Kind, tuple[int, int]] = {
    Kind.BYTE: (-(2**7), 2**7 - 1),
    Kind.I16: (-(2**15), 2**15 - 1),
    Kind.I32: (-(2**31), 2**31 - 1),
    Kind.I64: (-(2**63), 2**63 - 1),
}
INT_KINDS = frozenset(INT_RANGES)

# thriftpy2.thrift.TType
BOOL = 2
BYTE = 3
DOUBLE = 4
I16 = 6
I32 = 8
I64 = 10
STRING = 11
STRUCT = 12
MAP = 13
SET = 14
LIST = 15
BINARY = 18  # thriftpy2's own: a string field whose value stays bytes; it travels as STRING
TTYPE_UUID = 16  # Apache Thrift >= 0.19 writes uuid fields with their own wire type (16 bytes)

SPEC_TTYPES: dict[Kind, int] = {
    Kind.BOOL: BOOL,
    Kind.BYTE: BYTE,
    Kind.I16: I16,
    Kind.I32: I32,
    Kind.I64: I64,
    Kind.DOUBLE: DOUBLE,
    Kind.STRING: STRING,
    Kind.BINARY: BINARY,
    Kind.UUID: BINARY,  # thriftpy2 has no uuid type: carried as its 16 bytes (see docs/limitations.md)
    Kind.ENUM: I32,
    Kind.STRUCT: STRUCT,
    Kind.LIST: LIST,
    Kind.SET: SET,
    Kind.MAP: MAP,
}
WIRE_TTYPES: dict[Kind, int] = {
    kind: STRING if code == BINARY else code for kind, code in SPEC_TTYPES.items()
}
