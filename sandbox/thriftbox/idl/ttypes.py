"""Small facts about Thrift types that several layers check against: the range of each integer type."""

from __future__ import annotations

from thriftbox.idl.model import Kind

INT_RANGES: dict[Kind, tuple[int, int]] = {
    Kind.BYTE: (-(2**7), 2**7 - 1),
    Kind.I16: (-(2**15), 2**15 - 1),
    Kind.I32: (-(2**31), 2**31 - 1),
    Kind.I64: (-(2**63), 2**63 - 1),
}
INT_KINDS = frozenset(INT_RANGES)
