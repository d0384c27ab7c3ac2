"""Argument matchers: the ``when:`` of a stub rule, compiled once into predicates over decoded arguments.

A matcher spec is either a plain value (equal to the argument, compared by type: sets ignore order, structs
field by field) or a mapping of operators, all of which must hold::

    any: true            anything, even an unset optional argument
    present: true|false  the value is set / unset
    eq: V   ne: V        equal / not equal to V
    in: [V, ...]         equal to one of them; not_in: [V, ...]
    gt, gte, lt, lte     numbers (and enums, by value)
    regex: "..."         strings and enum names; the whole string must match
    contains: X          strings: a substring; lists and sets: some element matches X (a list of X: each
                         one does); maps: a key, a list of keys, or {key: value-spec}
    len: SPEC            the length of a string, binary or container matches SPEC (e.g. {gt: 2})
    not: SPEC            SPEC does not match
    any_of: [SPEC, ...]  one of them matches

A mapping in the position of a struct names fields, each with its own spec; fields not named match anything.
Operators may also be written with a leading ``$`` (``$eq``), which is never read as a field or map key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from thriftbox.idl.model import Catalog, Field, Kind, TypeRef
from thriftbox.stubs.context import Context, did_you_mean, listing
from thriftbox.stubs.source import line_of

Matcher = Callable[[Any], bool]

OPERATORS = (
    "any", "present", "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "regex", "contains", "len",
    "not", "any_of",
)  # fmt: skip
_NUMERIC = frozenset({Kind.BYTE, Kind.I16, Kind.I32, Kind.I64, Kind.DOUBLE, Kind.ENUM})
_LENGTH = TypeRef(Kind.I32)


def compile_fields(ctx: Context, fields: tuple[Field, ...], spec: Any, line: int, where: str) -> Matcher:
    """A matcher over an object whose attributes are ``fields`` (a struct, or a method's arguments)."""
    if not isinstance(spec, dict):
        raise ctx.error(f"{where} must be a mapping of names to values or matchers", line)
    by_name = {f.name: f for f in fields}
    checks: list[tuple[str, Matcher]] = []
    for name, sub in spec.items():
        f = by_name.get(name)
        if f is None:
            raise ctx.unknown("field", name, by_name, line_of(spec, name, line), f" in {where}")
        checks.append(
            (f.name, compile_matcher(ctx, f.type, sub, line_of(spec, name, line), f"{where}.{name}"))
        )

    def match(value: Any) -> bool:
        return value is not None and all(m(getattr(value, name, None)) for name, m in checks)

    return match


def compile_matcher(ctx: Context, t: TypeRef, spec: Any, line: int, where: str) -> Matcher:
    """A matcher for a value of type ``t`` from a spec read from a stub file."""
    if _has_nan(spec):
        raise ctx.error(
            f"{where}: NaN is never equal to, greater or less than any value: this could never match",
            line,
            "leave the argument out of `when` to match any value, NaN included",
        )
    if isinstance(spec, dict):
        ops = _operators(ctx, t, spec, line, where)
        if ops is None:
            if t.kind is Kind.STRUCT:
                return compile_fields(ctx, ctx.catalog.struct(str(t.name)).fields, spec, line, where)
        else:
            checks = [_operator(ctx, t, op, arg, line_of(spec, key, line), where) for key, op, arg in ops]
            return lambda value: all(check(value) for check in checks)
    expected = ctx.convert(t, spec, line, where)
    return lambda value: equal(ctx.catalog, t, value, expected)


def _has_nan(spec: Any) -> bool:
    if isinstance(spec, float):
        return math.isnan(spec)
    if isinstance(spec, dict):
        return any(_has_nan(v) for v in spec.values())
    if isinstance(spec, list):
        return any(_has_nan(v) for v in spec)
    return False


def _operators(ctx: Context, t: TypeRef, spec: dict[Any, Any], line: int, where: str) -> list[Any] | None:
    """The (key, operator, argument) triples of an operator mapping, or None for a struct or map literal."""
    fields = {f.name for f in ctx.catalog.struct(str(t.name)).fields} if t.kind is Kind.STRUCT else set()
    ops, others = [], []
    for key in spec:
        name = key[1:] if isinstance(key, str) and key.startswith("$") else key
        if (name in OPERATORS and key not in fields) or key != name:
            if name not in OPERATORS:
                raise _bad(ctx, f"unknown matcher {key!r} in {where}", line_of(spec, key, line), name)
            ops.append((key, name, spec[key]))
        else:
            others.append(key)
    if ops and others:
        raise ctx.error(
            f"{where} mixes matchers ({', '.join(map(str, (k for k, _, _ in ops)))}) with other keys",
            line,
            "write operators alone, e.g. {gt: 1, lt: 9}; to match a key literally use {eq: {...}}",
        )
    if ops:
        return ops
    if t.kind in (Kind.STRUCT, Kind.MAP, Kind.BINARY):  # binary: {text: ...}, {base64: ...}, {hex: ...}
        return None
    key = others[0]
    raise _bad(
        ctx, f"unknown matcher {key!r} in {where} (a {t} is not a struct)", line_of(spec, key, line), key
    )


def _bad(ctx: Context, message: str, line: int, name: Any) -> Exception:
    return ctx.error(message, line, did_you_mean(name, OPERATORS) or listing("matchers", OPERATORS, 20))


def _operator(ctx: Context, t: TypeRef, op: str, arg: Any, line: int, where: str) -> Matcher:
    here = f"{where}.{op}"
    if op == "any":
        if arg is not True:
            raise ctx.error(
                f"{here} takes only `true`", line, "leave the name out of `when` to match anything"
            )
        return lambda value: True
    if op == "present":
        if not isinstance(arg, bool):
            raise ctx.error(f"{here} takes true or false", line)
        return (lambda value: value is not None) if arg else (lambda value: value is None)
    if op in ("eq", "ne"):
        expected = ctx.convert(t, arg, line, here)
        if op == "eq":
            return lambda value: equal(ctx.catalog, t, value, expected)
        return lambda value: not equal(ctx.catalog, t, value, expected)
    if op in ("in", "not_in"):
        if not isinstance(arg, list):
            raise ctx.error(f"{here} takes a list of values", line)
        options = [ctx.convert(t, item, line_of(arg, i, line), f"{here}[{i}]") for i, item in enumerate(arg)]
        found: Matcher = lambda value: any(equal(ctx.catalog, t, value, option) for option in options)  # noqa: E731
        return found if op == "in" else (lambda value: not found(value))
    if op in ("gt", "gte", "lt", "lte"):
        return _compare(ctx, t, op, arg, line, here)
    if op == "regex":
        return _regex(ctx, t, arg, line, here)
    if op == "contains":
        return _contains(ctx, t, arg, line, here)
    if op == "len":
        if t.kind not in (Kind.STRING, Kind.BINARY, Kind.LIST, Kind.SET, Kind.MAP):
            raise ctx.error(f"{here}: a {t} has no length", line)
        inner = compile_matcher(ctx, _LENGTH, arg, line, here)
        return lambda value: value is not None and inner(len(value))
    if op == "not":
        inner = compile_matcher(ctx, t, arg, line, here)
        return lambda value: not inner(value)
    # any_of
    if not isinstance(arg, list) or not arg:
        raise ctx.error(f"{here} takes a non-empty list of matchers", line)
    alternatives = [
        compile_matcher(ctx, t, item, line_of(arg, i, line), f"{here}[{i}]") for i, item in enumerate(arg)
    ]
    return lambda value: any(m(value) for m in alternatives)


def _compare(ctx: Context, t: TypeRef, op: str, arg: Any, line: int, where: str) -> Matcher:
    if t.kind not in _NUMERIC:
        raise ctx.error(
            f"{where}: {op} compares numbers, and this is a {t}", line, "use eq, regex or contains"
        )
    bound = ctx.convert(t, arg, line, where)
    compare: Callable[[Any, Any], bool] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }[op]
    return lambda value: isinstance(value, int | float) and compare(value, bound)


def _regex(ctx: Context, t: TypeRef, arg: Any, line: int, where: str) -> Matcher:
    if t.kind not in (Kind.STRING, Kind.ENUM):
        raise ctx.error(f"{where}: regex matches strings, and this is a {t}", line)
    if not isinstance(arg, str):
        raise ctx.error(f"{where} takes a regular expression string", line)
    try:
        pattern = re.compile(arg)
    except re.error as err:
        raise ctx.error(
            f"{where}: bad regular expression: {err}", line, "quote it in YAML: 'regex: \"...\"'"
        ) from None
    if t.kind is Kind.ENUM:
        names = {v: k for k, v in ctx.catalog.enum(str(t.name)).values.items()}
        return lambda value: pattern.fullmatch(names.get(value, str(value))) is not None
    return lambda value: isinstance(value, str) and pattern.fullmatch(value) is not None


def _contains(ctx: Context, t: TypeRef, arg: Any, line: int, where: str) -> Matcher:
    if t.kind in (Kind.STRING, Kind.BINARY):
        needle = ctx.convert(t, arg, line, where)
        return lambda value: value is not None and needle in value
    if t.kind in (Kind.LIST, Kind.SET):
        assert t.elem is not None
        elem = t.elem
        items = arg if isinstance(arg, list) and elem.kind not in (Kind.LIST, Kind.SET) else [arg]
        wanted = [
            compile_matcher(ctx, elem, item, line_of(arg, i, line), where) for i, item in enumerate(items)
        ]
        return lambda value: value is not None and all(any(w(v) for v in value) for w in wanted)
    if t.kind is Kind.MAP:
        assert t.key is not None
        assert t.elem is not None
        key_t, value_t = t.key, t.elem
        if isinstance(arg, dict):
            entries = [
                (
                    _map_key(ctx, t, k, line_of(arg, k, line), where),
                    compile_matcher(ctx, value_t, v, line, where),
                )
                for k, v in arg.items()
            ]
            return lambda value: value is not None and all(k in value and m(value[k]) for k, m in entries)
        keys = [ctx.convert(key_t, k, line, where) for k in (arg if isinstance(arg, list) else [arg])]
        return lambda value: value is not None and all(k in value for k in keys)
    raise ctx.error(f"{where}: contains works on strings, binary and containers, and this is a {t}", line)


def _map_key(ctx: Context, t: TypeRef, key: Any, line: int, where: str) -> Any:
    """One map key in wire form, converted as part of a one-entry map (JSON map keys are strings)."""
    assert t.elem is not None
    sample = ctx.convert(TypeRef(Kind.MAP, key=t.key, elem=TypeRef(Kind.BOOL)), {key: True}, line, where)
    return next(iter(sample))


def equal(catalog: Catalog, t: TypeRef, a: Any, b: Any) -> bool:
    """Typed equality of two wire values: sets ignore order, structs compare field by field."""
    if a is None or b is None:
        return a is None and b is None
    kind = t.kind
    if kind is Kind.STRUCT:
        fields = catalog.struct(str(t.name)).fields
        return all(equal(catalog, f.type, getattr(a, f.name, None), getattr(b, f.name, None)) for f in fields)
    if kind is Kind.LIST:
        assert t.elem is not None
        return len(a) == len(b) and all(equal(catalog, t.elem, x, y) for x, y in zip(a, b, strict=True))
    if kind is Kind.SET:
        assert t.elem is not None
        rest = list(b)
        for x in a:
            hit = next((i for i, y in enumerate(rest) if equal(catalog, t.elem, x, y)), None)
            if hit is None:
                return False
            rest.pop(hit)
        return not rest
    if kind is Kind.MAP:
        assert t.elem is not None
        return len(a) == len(b) and all(k in b and equal(catalog, t.elem, v, b[k]) for k, v in a.items())
    return bool(a == b)
