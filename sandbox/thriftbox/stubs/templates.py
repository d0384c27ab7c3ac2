"""Answer values of stub rules: checked against the IDL when loaded, rendered per call.

In a ``return`` or ``throw`` value:

* a mapping where a struct goes is *partial*: fields left out are generated (at any depth);
* ``{$arg: name}`` is the argument ``name`` itself (``{$arg: req.user.id}`` a field of one), checked to have
  a type that fits where it goes;
* a string with ``{{ args.name }}`` placeholders is a template (only where a string goes);
  ``{{ '{{' }}`` writes literal braces;
* ``{$exact: VALUE}`` sends VALUE as written: struct fields left out stay unset instead of generated.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Field, Kind, TypeRef
from thriftbox.stubs.context import Context
from thriftbox.stubs.source import line_of
from thriftbox.values import ValueGenerator
from thriftbox.values.convert import to_json

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_LITERAL = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)")\s*""")
_INTS = (Kind.BYTE, Kind.I16, Kind.I32, Kind.I64)


@dataclass
class Render:
    """What rendering needs for one call. ``rng`` is the call's own random source, made when first used."""

    catalog: Catalog
    classes: Classes
    generator: ValueGenerator
    service_id: str
    method: str
    args: Any

    @cached_property
    def rng(self) -> random.Random:
        return self.generator.rng_for(self.service_id, self.method, self.args)


class Node:
    """A compiled answer value. ``value`` is a wire value; ``override`` is what the generator takes."""

    def value(self, r: Render) -> Any:
        raise NotImplementedError

    def override(self, r: Render) -> Any:
        return self.value(r)


@dataclass
class Const(Node):
    constant: Any

    def value(self, r: Render) -> Any:
        return self.constant


@dataclass
class Arg(Node):
    path: tuple[str, ...]

    def value(self, r: Render) -> Any:
        return arg_value(r.args, self.path)


@dataclass
class Template(Node):
    parts: list[str | tuple[tuple[str, ...], Callable[[Catalog, Any], str]]]

    def value(self, r: Render) -> Any:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                path, fmt = part
                out.append(fmt(r.catalog, arg_value(r.args, path)))
        return "".join(out)


@dataclass
class Struct(Node):
    t: TypeRef
    fields: dict[str, Node] = field(default_factory=dict)
    exact: bool = False

    def value(self, r: Render) -> Any:
        if self.exact:
            return r.classes.struct(str(self.t.name))(**{k: n.value(r) for k, n in self.fields.items()})
        return r.generator.value(self.t, r.rng, override=self.override(r))

    def override(self, r: Render) -> Any:
        if self.exact:
            return self.value(r)
        return {name: node.override(r) for name, node in self.fields.items()}


@dataclass
class Seq(Node):
    items: list[Node]

    def value(self, r: Render) -> Any:
        return [item.value(r) for item in self.items]


@dataclass
class Map(Node):
    entries: list[tuple[Any, Node]]

    def value(self, r: Render) -> Any:
        return {key: node.value(r) for key, node in self.entries}


def arg_value(args: Any, path: tuple[str, ...]) -> Any:
    value = args
    for name in path:
        if value is None:
            return None
        value = getattr(value, name, None)
    return value


def compile_value(
    ctx: Context, args: tuple[Field, ...], t: TypeRef, spec: Any, line: int, where: str
) -> Node:
    """Check ``spec`` (read from a stub file) against ``t``; the arguments are what ``$arg`` may name."""
    return _Compiler(ctx, args).node(t, spec, line, where, exact=False)


def resolve_arg(
    ctx: Context, args: tuple[Field, ...], path: Any, line: int, where: str
) -> tuple[tuple[str, ...], TypeRef]:
    """The path and type of an argument reference like ``req.user.id``."""
    if not isinstance(path, str) or not path:
        raise ctx.error(f"{where}: $arg takes an argument name, like {{$arg: id}}", line)
    names = tuple(path.removeprefix("args.").split("."))
    fields: tuple[Field, ...] = args
    t: TypeRef | None = None
    for i, name in enumerate(names):
        f = next((f for f in fields if f.name == name), None)
        if f is None:
            what = "argument" if i == 0 else f"field of {t}"
            raise ctx.unknown(what, name, [f.name for f in fields], line, f" in {where}")
        t = f.type
        fields = ctx.catalog.struct(str(t.name)).fields if t.kind is Kind.STRUCT else ()
    assert t is not None
    return names, t


def fits(src: TypeRef, dst: TypeRef) -> bool:
    """Can a value of type ``src`` go where ``dst`` is declared (typedef names aside, ints may widen)?"""
    if src.kind in _INTS or src.kind is Kind.ENUM:
        if dst.kind in _INTS:
            order = {Kind.ENUM: 2, **{k: i for i, k in enumerate(_INTS)}}
            return order[src.kind] <= order[dst.kind]
        return dst.kind is Kind.DOUBLE or (src.kind is dst.kind and src.name == dst.name)
    if src.kind is not dst.kind or src.name != dst.name:
        return False
    if src.kind in (Kind.LIST, Kind.SET, Kind.MAP):
        assert src.elem is not None
        assert dst.elem is not None
        keys = src.key is None or (dst.key is not None and _same(src.key, dst.key))
        return keys and _same(src.elem, dst.elem)
    return True


def _same(a: TypeRef, b: TypeRef) -> bool:
    """Container elements must match exactly (a list of i32 is not a list of i64 on the wire)."""
    if a.kind is not b.kind or a.name != b.name:
        return False
    inner = [(a.elem, b.elem), (a.key, b.key)]
    return all(
        (x is None and y is None) or (x is not None and y is not None and _same(x, y)) for x, y in inner
    )


class _Compiler:
    def __init__(self, ctx: Context, args: tuple[Field, ...]) -> None:
        self.ctx = ctx
        self.args = args

    def node(self, t: TypeRef, spec: Any, line: int, where: str, *, exact: bool) -> Node:
        ctx = self.ctx
        if isinstance(spec, dict) and len(spec) == 1 and "$arg" in spec:
            path, src = resolve_arg(ctx, self.args, spec["$arg"], line_of(spec, "$arg", line), where)
            if not fits(src, t):
                raise ctx.error(
                    f"{where}: argument {'.'.join(path)} is a {src}, which does not fit a {t}",
                    line,
                    "name an argument of the same type, or write the value itself",
                )
            return Arg(path)
        if isinstance(spec, dict) and len(spec) == 1 and "$exact" in spec:
            return self.node(t, spec["$exact"], line_of(spec, "$exact", line), where, exact=True)
        if isinstance(spec, dict) and any(isinstance(k, str) and k.startswith("$") for k in spec):
            key = next(k for k in spec if isinstance(k, str) and k.startswith("$"))
            raise ctx.error(
                f"{where}: {key!r} must be alone in its mapping",
                line_of(spec, key, line),
                "known: $arg, $exact",
            )
        if isinstance(spec, str) and "{{" in spec and t.kind is Kind.STRING:
            return self._template(spec, line, where)
        if t.kind is Kind.STRUCT and isinstance(spec, dict):
            return self._struct(t, spec, line, where, exact=exact)
        if t.kind in (Kind.LIST, Kind.SET) and isinstance(spec, list) and _dynamic(spec, t):
            assert t.elem is not None
            elem = t.elem
            return Seq(
                [
                    self.node(elem, s, line_of(spec, i, line), f"{where}[{i}]", exact=exact)
                    for i, s in enumerate(spec)
                ]
            )
        if t.kind is Kind.MAP and isinstance(spec, dict) and _dynamic(spec, t):
            assert t.elem is not None
            value_t = t.elem
            entries = []
            for k, v in spec.items():
                key_line = line_of(spec, k, line)
                key = ctx.convert(
                    TypeRef(Kind.MAP, key=t.key, elem=TypeRef(Kind.BOOL)), {k: True}, key_line, where
                )
                entries.append(
                    (next(iter(key)), self.node(value_t, v, key_line, f"{where}[{k}]", exact=exact))
                )
            return Map(entries)
        if spec is None and t.kind is Kind.STRUCT and not exact:
            return Struct(t)
        return Const(ctx.convert(t, spec, line, where))

    def _struct(self, t: TypeRef, spec: dict[Any, Any], line: int, where: str, *, exact: bool) -> Struct:
        sdef = self.ctx.catalog.struct(str(t.name))
        by_name = {f.name: f for f in sdef.fields}
        nodes: dict[str, Node] = {}
        for name, sub in spec.items():
            f = by_name.get(name)
            sub_line = line_of(spec, name, line)
            if f is None:
                raise self.ctx.unknown(f"field of {sdef.name}", name, by_name, sub_line, f" in {where}")
            nodes[f.name] = self.node(f.type, sub, sub_line, f"{where}.{name}", exact=exact)
        if sdef.kind == "union" and sum(sub is not None for sub in spec.values()) != 1:
            count = sum(sub is not None for sub in spec.values())
            raise self.ctx.error(
                f"{where}: {sdef.name} is a union: set exactly one field, not {count}",
                line,
                f"one of: {', '.join(by_name)}"
                + ("" if exact else "; leave the union out, or write null, to have one generated"),
            )
        if exact:
            missing = [f.name for f in sdef.fields if f.required and f.name not in nodes]
            if missing:
                raise self.ctx.error(
                    f"{where}: {sdef.name} needs its required field(s) {', '.join(missing)}", line
                )
        return Struct(t, nodes, exact)

    def _template(self, text: str, line: int, where: str) -> Template:
        parts: list[Any] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(text):
            parts.append(text[pos : m.start()])
            pos = m.end()
            literal = _LITERAL.fullmatch(m.group(1))
            if literal:
                parts.append(literal.group(1) if literal.group(1) is not None else literal.group(2))
                continue
            expr = m.group(1).strip()
            if not expr.startswith("args."):
                raise self.ctx.error(
                    f"{where}: unknown template expression {expr!r}",
                    line,
                    "write {{ args.NAME }} (or args.NAME.FIELD); {{ '{{' }} writes literal braces",
                )
            path, t = resolve_arg(self.ctx, self.args, expr, line, where)
            parts.append((path, _formatter(t)))
        parts.append(text[pos:])
        return Template([p for p in parts if p != ""])


def _dynamic(spec: Any, t: TypeRef) -> bool:
    """Does ``spec`` hold anything beyond a plain constant (an $arg, a template, a partial struct)?"""
    if isinstance(spec, dict):
        if any(isinstance(k, str) and k.startswith("$") for k in spec):
            return True
        return t.kind is Kind.STRUCT or any(_dynamic(v, t.elem or t) for v in spec.values())
    if isinstance(spec, list):
        return any(_dynamic(v, t.elem or t) for v in spec)
    return (isinstance(spec, str) and "{{" in spec) or (t.kind is Kind.STRUCT and spec is None)


def _formatter(t: TypeRef) -> Callable[[Catalog, Any], str]:
    """How an argument of type ``t`` reads inside a string template."""

    def fmt(catalog: Catalog, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if t.kind is Kind.ENUM:
            names = {v: k for k, v in catalog.enum(str(t.name)).values.items()}
            return names.get(value, str(value))
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, str | int | float):
            return str(value)
        return json.dumps(to_json(catalog, t, value), ensure_ascii=False)

    return fmt
