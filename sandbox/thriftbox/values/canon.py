"""Stable, process-independent seeds: a canonical text form of wire values and a keyed hash.

Python's ``hash()`` of a str changes from process to process, so every seed here goes through blake2b.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts`` (ints and strings), the same in every process."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
    )


def canonical(value: object) -> str:
    """A text form of a wire value (payloads, containers, scalars) that does not depend on dict order."""
    return repr(_canon(value))


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        spec: Mapping[int, tuple[Any, ...]] = getattr(cls, "thrift_spec", {}) or {}
        names = tuple(spec[i][1] for i in sorted(spec))
        _FIELD_NAMES[cls] = names
    return names


def _canon(v: object) -> object:
    t = type(v)
    if t is int or t is str or t is bytes or t is bool or t is float or v is None:
        return v
    if t is list or t is tuple:
        return tuple([_canon(x) for x in v])  # type: ignore[attr-defined]
    if isinstance(v, Mapping):
        return (
            "{",
            tuple(sorted(((repr(_canon(k)), _canon(x)) for k, x in v.items()), key=lambda kv: kv[0])),
        )
    if isinstance(v, set | frozenset):
        return ("<", tuple(sorted(repr(_canon(x)) for x in v)))
    if hasattr(t, "thrift_spec"):  # unset fields left out: a field added to the IDL leaves the text as it was
        return (
            t.__name__,
            tuple([(n, _canon(x)) for n in _field_names(t) if (x := getattr(v, n, None)) is not None]),
        )
    return repr(v)


def decoded_key(value: object) -> object:
    """A hashable key equal for two values exactly when a client decodes them as equal: a struct field left unset
    counts as its declared default, since decoders fill defaults in. Used to keep set members and map keys
    unique on the wire, not merely as Python objects."""
    t = type(value)
    if hasattr(t, "thrift_spec"):
        defaults = dict(getattr(t, "default_spec", ()) or ())
        return (
            t.__name__,
            tuple(
                decoded_key(v if (v := getattr(value, n, None)) is not None else defaults.get(n))
                for n in _field_names(t)
            ),
        )
    return _canon(value)
