"""From parsed files to a :class:`~thriftbox.idl.model.Catalog`: names, typedefs, constants, ``extends``,
and fbthrift's Rocket-only methods (streams, sinks, interactions) apart from the served ones.

Every name is looked up after all files are parsed, so a type, an enum or a constant may be used before
the line that declares it, as Apache Thrift allows.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from thriftbox.idl.constants import ConstValues, FieldTypes
from thriftbox.idl.model import (
    Catalog,
    ConstDef,
    EnumDef,
    Field,
    InteractionDef,
    Kind,
    Method,
    RocketMethod,
    ServiceDef,
    StructDef,
    ThriftFile,
    TypeRef,
)
from thriftbox.idl.scope import FileScope
from thriftbox.idl.syntax import (
    ConstDefNode,
    EnumNode,
    FieldNode,
    FunctionNode,
    ServiceNode,
    StructNode,
    TypedefNode,
    TypeNode,
)

log = logging.getLogger(__name__)

_BASE = {
    "bool": Kind.BOOL,
    "byte": Kind.BYTE,
    "i8": Kind.BYTE,
    "i16": Kind.I16,
    "i32": Kind.I32,
    "i64": Kind.I64,
    "double": Kind.DOUBLE,
    "string": Kind.STRING,
    "slist": Kind.STRING,  # deprecated spelling of string
    "binary": Kind.BINARY,
    "uuid": Kind.UUID,
}
_VOID = TypeRef(Kind.VOID)


def build_catalog(roots: tuple[Path, ...], scopes: dict[Path, FileScope]) -> Catalog:
    """Resolve every file in ``scopes`` (in their order) into one catalog."""
    return _Resolver(scopes).catalog(roots)


class _Resolver:
    def __init__(self, scopes: dict[Path, FileScope]) -> None:
        self.scopes = scopes
        self.enums: dict[str, EnumDef] = {}
        self.struct_kinds: dict[str, str] = {}
        self.fields: FieldTypes = {}
        self.values = ConstValues(self.named, self.enums, self.fields)
        self._typedefs: dict[tuple[Path, str], TypeRef] = {}
        self._busy: set[tuple[Path, str]] = set()
        self._services: dict[tuple[Path, str], ServiceDef] = {}
        self._extending: set[tuple[Path, str]] = set()
        self._interactions: dict[tuple[Path, str], InteractionDef] = {}

    # -- types -------------------------------------------------------------------------------------------

    def type(self, scope: FileScope, node: TypeNode) -> TypeRef:
        if node.kind == "base":
            return TypeRef(_BASE[node.name])
        if node.kind == "named":
            return self.named(scope, node.name, node.line, node.col)
        if node.kind == "map":
            return TypeRef(Kind.MAP, key=self.type(scope, node.args[0]), elem=self.type(scope, node.args[1]))
        return TypeRef(Kind.LIST if node.kind == "list" else Kind.SET, elem=self.type(scope, node.args[0]))

    def named(self, scope: FileScope, name: str, line: int, col: int) -> TypeRef:
        """The type a name stands for in ``scope``; a typedef's name survives as the alias."""
        found = scope.find_type(name)
        if found is None:
            if scope.find_service(name) is not None:
                scope.fail(f"'{name}' is a service, not a type", line, col)
            if name == "float":
                scope.fail(
                    "unknown type 'float'",
                    line,
                    col,
                    hint="fbthrift's 32-bit float has no Apache Thrift wire type; thriftbox reads double",
                )
            if scope.find_interaction(name) is not None:
                scope.fail(
                    f"'{name}' is an interaction, not a type",
                    line,
                    col,
                    hint="an interaction may only come first in a method's return type: 'Name, T f()'",
                )
            scope.unknown("type", name, line, col, scope.visible("types"))
        tscope, tdef = found
        if isinstance(tdef, StructNode):
            return TypeRef(Kind.STRUCT, name=tscope.qname(tdef.name))
        if isinstance(tdef, EnumNode):
            return TypeRef(Kind.ENUM, name=tscope.qname(tdef.name))
        return dataclasses.replace(self._typedef(tscope, tdef), alias=name)

    def _typedef(self, scope: FileScope, tdef: TypedefNode) -> TypeRef:
        key = (scope.path, tdef.name)
        if key not in self._typedefs:
            if key in self._busy:
                scope.fail(f"typedef '{tdef.name}' refers to itself", tdef.line, tdef.col)
            self._busy.add(key)
            try:
                self._typedefs[key] = self.type(scope, tdef.type)
            finally:
                self._busy.discard(key)
        return self._typedefs[key]

    # -- definitions -------------------------------------------------------------------------------------

    def catalog(self, roots: tuple[Path, ...]) -> Catalog:
        catalog = Catalog(roots)
        for scope in self.scopes.values():
            for d in scope.doc.definitions:
                if isinstance(d, EnumNode):
                    values = {v.name: v.value for v in d.values}
                    edef = EnumDef(scope.qname(d.name), d.name, values, scope.path, d.line, d.annotations)
                    self.enums[edef.qname] = edef
                elif isinstance(d, StructNode):
                    self.struct_kinds[scope.qname(d.name)] = d.kind
                elif isinstance(d, TypedefNode):
                    self._typedef(scope, d)  # unknown names are errors even in unused typedefs
        for scope in self.scopes.values():
            for d in scope.doc.definitions:
                if isinstance(d, StructNode):
                    self.fields[scope.qname(d.name)] = {f.name: self.type(scope, f.type) for f in d.fields}
                elif isinstance(d, ConstDefNode):
                    self.values.declare(scope, d, self.type(scope, d.type))
        for scope in self.scopes.values():
            namespaces = dict(scope.doc.namespaces)
            catalog.files[scope.path] = ThriftFile(
                scope.path, scope.key, tuple(scope.include_paths), namespaces, scope.doc.package
            )
            for d in scope.doc.definitions:
                if isinstance(d, StructNode):
                    fields = self._fields(scope, d.fields)
                    qname = scope.qname(d.name)
                    sdef = StructDef(qname, d.name, d.kind, fields, scope.path, d.line, d.annotations)
                    catalog.structs[sdef.qname] = sdef
                elif isinstance(d, EnumNode):
                    catalog.enums[scope.qname(d.name)] = self.enums[scope.qname(d.name)]
                elif isinstance(d, ConstDefNode):
                    ctype = self.type(scope, d.type)
                    value = self.values.const(scope, d)
                    cdef = ConstDef(scope.qname(d.name), d.name, ctype, value, scope.path, d.line)
                    catalog.consts[cdef.qname] = cdef
        services = [
            self._service(scope, s) for scope in self.scopes.values() for s in scope.services.values()
        ]
        catalog.services = {s.id: s for s in sorted(services, key=lambda s: s.id)}
        interactions = [
            self._interaction(scope, i) for scope in self.scopes.values() for i in scope.interactions.values()
        ]
        catalog.interactions = {i.qname: i for i in sorted(interactions, key=lambda i: i.qname)}
        return catalog

    def _fields(self, scope: FileScope, nodes: tuple[FieldNode, ...]) -> tuple[Field, ...]:
        fields = []
        for f in nodes:
            ftype = self.type(scope, f.type)
            default = None if f.default is None else self.values.convert(scope, ftype, f.default)
            fields.append(Field(f.id, f.name, ftype, f.requiredness, default, f.annotations, f.line, f.col))
        return tuple(fields)

    # -- services ----------------------------------------------------------------------------------------

    def _service(self, scope: FileScope, node: ServiceNode) -> ServiceDef:
        key = (scope.path, node.name)
        if key in self._services:
            return self._services[key]
        if key in self._extending:
            scope.fail(f"service '{node.name}' extends itself", node.extends_line, node.extends_col)
        self._extending.add(key)
        sid = scope.qname(node.name)
        methods: dict[str, Method] = {}
        rocket: dict[str, RocketMethod] = {}
        parent = None
        if node.extends is not None:
            parent = self._service(*self._parent(scope, node, node.extends))
            methods.update(parent.methods)
            rocket.update(parent.rocket)
        for fn in node.functions:
            made = self._function(scope, fn, sid)
            if isinstance(made, Method):
                methods[fn.name] = made
            else:
                rocket[fn.name] = made
        for name, line, col in node.performs:  # fbthrift names the implied factory "create<Name>"
            qname = self._interaction_named(scope, name, line, col).qname
            factory = Method(f"create{name.rsplit('.', 1)[-1]}", (), _VOID, (), False, sid, line, col)
            rocket[factory.name] = RocketMethod("factory", factory, interaction=qname)
        for made in list(rocket.values()):
            if made.kind == "factory" and made.interaction is not None:
                rocket.update(self._interaction_by_qname(made.interaction).methods)
        self._extending.discard(key)
        sdef = ServiceDef(
            sid,
            node.name,
            scope.path,
            methods,
            parent.id if parent else None,
            node.line,
            node.annotations,
            rocket,
        )
        self._services[key] = sdef
        return sdef

    def _parent(self, scope: FileScope, node: ServiceNode, name: str) -> tuple[FileScope, ServiceNode]:
        found = scope.find_service(name)
        if found is None:
            line, col = node.extends_line, node.extends_col
            if (other := scope.find_type(name)) is not None:
                tdef = other[1]
                what = (
                    tdef.kind
                    if isinstance(tdef, StructNode)
                    else "enum"
                    if isinstance(tdef, EnumNode)
                    else "typedef"
                )
                scope.fail(
                    f"service {node.name} extends '{name}', which is a {what}, not a service", line, col
                )
            scope.unknown("service", name, line, col, scope.visible("services"))
        return found

    # -- fbthrift's interactions, streams and sinks -------------------------------------------------------

    def _interaction(self, scope: FileScope, node: ServiceNode) -> InteractionDef:
        key = (scope.path, node.name)
        if key not in self._interactions:
            qname = scope.qname(node.name)
            methods: dict[str, RocketMethod] = {}
            for fn in node.functions:
                named = dataclasses.replace(fn, name=f"{node.name}.{fn.name}")
                made = self._function(scope, named, qname, interaction=qname)
                assert isinstance(made, RocketMethod)
                methods[made.name] = made
            self._interactions[key] = InteractionDef(qname, node.name, scope.path, methods, node.line)
        return self._interactions[key]

    def _interaction_named(self, scope: FileScope, name: str, line: int, col: int) -> InteractionDef:
        found = scope.find_interaction(name)
        if found is None:
            scope.unknown("interaction", name, line, col, scope.visible("interactions"))
        return self._interaction(*found)

    def _interaction_by_qname(self, qname: str) -> InteractionDef:
        return next(i for i in self._interactions.values() if i.qname == qname)

    def _function(
        self, scope: FileScope, fn: FunctionNode, sid: str, interaction: str | None = None
    ) -> Method | RocketMethod:
        """A served method, or one only Rocket carries (a stream, a sink, an interaction's or its factory)."""
        created: str | None = None
        if fn.lead is not None:  # "Interaction, Response f()"
            created = self._interaction_named(scope, fn.lead.name, fn.lead.line, fn.lead.col).qname
        elif (
            fn.returns is not None and fn.returns.kind == "named" and scope.find_interaction(fn.returns.name)
        ):
            created = self._interaction_named(scope, fn.returns.name, fn.returns.line, fn.returns.col).qname
            fn = dataclasses.replace(fn, returns=None)  # "Interaction f()": the factory alone
        method = self._method(scope, fn, sid)
        if interaction is None and created is None and fn.stream is None:
            return method
        elem = final = None
        if fn.stream is not None:
            elem = self.type(scope, fn.stream.elem)
            final = None if fn.stream.final is None else self.type(scope, fn.stream.final)
            self._throws(scope, fn.name, fn.stream.throws)
            self._throws(scope, fn.name, fn.stream.final_throws)
        kind = (
            "interaction"
            if interaction
            else "factory"
            if created
            else fn.stream.kind
            if fn.stream
            else "sink"
        )
        return RocketMethod(kind, method, elem, final, interaction or created)

    def _throws(self, scope: FileScope, name: str, nodes: tuple[FieldNode, ...]) -> tuple[Field, ...]:
        throws = self._fields(scope, nodes)
        for f, node in zip(throws, nodes, strict=True):
            if f.type.kind is not Kind.STRUCT or self.struct_kinds[str(f.type.name)] != "exception":
                scope.fail(
                    f"method {name} throws '{f.name}' of type {f.type.alias or f.type}, not an exception",
                    node.line,
                    node.col,
                    hint="a throws clause may only list exceptions",
                )
        return throws

    def _method(self, scope: FileScope, fn: FunctionNode, sid: str) -> Method:
        returns = _VOID if fn.returns is None else self.type(scope, fn.returns)
        throws = self._throws(scope, fn.name, fn.throws)
        if fn.oneway and throws:
            scope.fail(f"oneway method {fn.name} cannot throw exceptions", fn.line, fn.col)
        if fn.oneway and returns.kind is not Kind.VOID:
            log.warning("%s:%d: oneway method %s should return void", scope.path, fn.line, fn.name)
        args = self._fields(scope, fn.args)
        return Method(fn.name, args, returns, throws, fn.oneway, sid, fn.line, fn.col, fn.annotations)
