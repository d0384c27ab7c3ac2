"""How a stateful service's methods map to operations on the simulated database, by naming convention.

The first word of a method name (``getUser``, ``get_user``, ``GetUser`` → ``get``) picks the operation:

=========  =========================================================================
create     create, add, insert, new, register, post (assigns a key when none is given)
put        put, save, upsert, set, store, write, replace
update     update, patch, modify, edit (merges the fields given into what is stored)
get        get, fetch, find, read, load, lookup, retrieve, describe, show
list       list, search, all, scan, query, browse; and a get-word returning a list, set or map
delete     delete, remove, destroy, drop, erase, purge, del, unregister
=========  =========================================================================

The entity of create/put/update is the first struct argument (one with a key field first). Its type is the
*collection*; when it has no key field but the method returns a struct that has one (``User
createUser(NewUser)``), the collection is the returned type, built from the argument's fields of the same
name, the rest generated. Get returns the collection of its return type; list that of its list/set/map
element, or of the list field of a wrapper struct; delete the collection named after the method
(``deleteUser`` → ``User``).
The key is the entity's field named by ``state: {key: NAME}``, else ``id``, ``<entity>Id``/``<entity>_id``, else
the first field ending in ``Id``/``_id``. Get and delete take the key from the argument of that name, else
``id``, else an argument ending in ``Id``/``_id``, else the key field of a struct argument, else the only
argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from thriftbox.idl.model import Catalog, Field, Kind, Method, StructDef, TypeRef

Op = Literal["create", "put", "update", "get", "list", "delete"]
OPS: tuple[str, ...] = ("create", "put", "update", "get", "list", "delete", "none")
_WORDS: dict[str, Op] = {
    **dict.fromkeys(("create", "add", "insert", "new", "register", "post"), "create"),
    **dict.fromkeys(("put", "save", "upsert", "set", "store", "write", "replace"), "put"),
    **dict.fromkeys(("update", "patch", "modify", "edit"), "update"),
    **dict.fromkeys(("get", "fetch", "find", "read", "load", "lookup", "retrieve", "describe", "show"), "get"),
    **dict.fromkeys(("list", "search", "all", "scan", "query", "browse"), "list"),
    **dict.fromkeys(("delete", "remove", "destroy", "drop", "erase", "purge", "del", "unregister"), "delete"),
}  # fmt: skip
KEY_KINDS = frozenset({Kind.BYTE, Kind.I16, Kind.I32, Kind.I64, Kind.STRING, Kind.BINARY, Kind.UUID})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@dataclass(frozen=True)
class Plan:
    """One method's operation on one collection.

    ``key_path``: where get/delete find the key in the arguments; ``entity_path``: where create/put/update find
    the entity; ``list_field``: the list field of a wrapper struct a list returns.
    """

    op: Op
    collection: str  # qualified struct name
    key_field: str
    key_type: TypeRef
    key_path: tuple[str, ...] = ()
    entity_path: tuple[str, ...] = ()
    list_field: str = ""
    source: str = ""  # the struct type at entity_path when it is not the collection's (NewUser → User)


def words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def convention_op(method: Method) -> Op | None:
    """The operation a method's name and return type suggest, or None."""
    found = words(method.name)
    if not found or found[0] not in _WORDS:
        return None
    op = _WORDS[found[0]]
    if op == "get" and (_is_many(method.returns) or (len(found) > 1 and found[1] == "all")):
        return "list"
    return op


def _is_many(t: TypeRef) -> bool:
    return t.kind in (Kind.LIST, Kind.SET, Kind.MAP) and t.elem is not None and t.elem.kind is Kind.STRUCT


def key_field(sdef: StructDef, preferred: str | None) -> Field | None:
    """The field that keys an entity of ``sdef``."""
    scalar = [f for f in sdef.fields if f.type.kind in KEY_KINDS]
    by_name = {f.name: f for f in scalar}
    if preferred is not None:
        return by_name.get(preferred)
    lower = sdef.name.lower()
    for f in scalar:
        if f.name == "id" or f.name.lower() in (f"{lower}id", f"{lower}_id"):
            return f
    return next((f for f in scalar if _id_like(f.name)), None)


def _id_like(name: str) -> bool:
    return name.endswith(("Id", "_id", "ID")) or name == "id"


def plan(
    catalog: Catalog,
    method: Method,
    op: Op,
    *,
    key_name: str | None = None,
    key_path: tuple[str, ...] | None = None,
    entity_path: tuple[str, ...] | None = None,
    collection: str | None = None,
    collections: tuple[str, ...] = (),
) -> Plan | None:
    """The plan for ``method`` doing ``op``, or None when the method's shape does not fit the operation.

    ``collections`` are the entity types of the whole service (to tell which one ``deleteUser`` means).
    """
    if op in ("create", "put", "update"):
        found = _entity_arg(catalog, method, key_name)
        if entity_path:
            t = _path_type(catalog, method.args, entity_path)
            found = (t, entity_path) if t is not None else None
        if found is None or found[0].kind is not Kind.STRUCT:
            return None
        given = str(found[0].name)
        entity = collection or given
        key = key_field(catalog.struct(entity), key_name)
        if key is None and collection is None and method.returns.kind is Kind.STRUCT:
            entity = str(method.returns.name)  # createUser(NewUser) -> User: store what it returns
            key = key_field(catalog.struct(entity), key_name)
        if key is None:
            return None
        source = given if given != entity else ""
        return Plan(op, entity, key.name, key.type, entity_path=found[1], source=source)
    list_field = ""
    coll: str | None = collection
    if coll is None and op == "get" and method.returns.kind is Kind.STRUCT:
        coll = str(method.returns.name)
    if coll is None and op == "list":
        coll, list_field = _listed(catalog, method.returns)
    if coll is None:
        coll = _named(catalog, method, collections)
    if coll is None:
        return None
    if op == "list":  # a list has no key argument
        key = key_field(catalog.struct(coll), key_name)
        return Plan(op, coll, key.name, key.type, list_field=list_field) if key else None
    key = key_field(catalog.struct(coll), key_name)
    if key is None:
        return None
    found_path = key_path or _key_arg(catalog, method, key)
    return Plan(op, coll, key.name, key.type, key_path=found_path) if found_path else None


def _path_type(catalog: Catalog, fields: tuple[Field, ...], path: tuple[str, ...]) -> TypeRef | None:
    t: TypeRef | None = None
    for name in path:
        f = next((f for f in fields if f.name == name), None)
        if f is None:
            return None
        t = f.type
        fields = catalog.struct(str(t.name)).fields if t.kind is Kind.STRUCT else ()
    return t


def _entity_arg(
    catalog: Catalog, method: Method, key_name: str | None
) -> tuple[TypeRef, tuple[str, ...]] | None:
    structs = [a for a in method.args if a.type.kind is Kind.STRUCT]
    keyed = [a for a in structs if key_field(catalog.struct(str(a.type.name)), key_name) is not None]
    chosen = (keyed or structs)[:1]
    return (chosen[0].type, (chosen[0].name,)) if chosen else None


def _listed(catalog: Catalog, t: TypeRef) -> tuple[str | None, str]:
    if _is_many(t):
        assert t.elem is not None
        return str(t.elem.name), ""
    if t.kind is Kind.STRUCT:
        for f in catalog.struct(str(t.name)).fields:
            if f.type.kind in (Kind.LIST, Kind.SET) and _is_many(f.type):
                assert f.type.elem is not None
                return str(f.type.elem.name), f.name
    return None, ""


def _named(catalog: Catalog, method: Method, collections: tuple[str, ...]) -> str | None:
    """The collection a method name mentions: ``deleteUser``, ``removeUserById``, ``delete_users``."""
    rest = "".join(words(method.name)[1:])
    for qname in sorted(collections, key=lambda q: -len(catalog.struct(q).name)):
        name = catalog.struct(qname).name.lower()
        if rest.startswith(name) or rest.startswith(name.rstrip("s")):
            return qname
    return collections[0] if len(collections) == 1 else None


def _key_arg(catalog: Catalog, method: Method, key: Field) -> tuple[str, ...] | None:
    args = method.args
    for pick in (
        lambda a: a.name == key.name,
        lambda a: a.name == "id",
        lambda a: _id_like(a.name) and a.type.kind in KEY_KINDS,
    ):
        hit = next((a for a in args if pick(a)), None)
        if hit is not None:
            return (hit.name,)
    for a in args:
        if a.type.kind is Kind.STRUCT and catalog.struct(str(a.type.name)).field_named(key.name):
            return (a.name, key.name)
    scalars = [a for a in args if a.type.kind in KEY_KINDS]
    return (scalars[0].name,) if len(args) == 1 and scalars else None


def service_collections(catalog: Catalog, methods: list[Method], key_name: str | None) -> tuple[str, ...]:
    """The entity types a service stores: struct arguments of its writes, struct results of its reads."""
    found: list[str] = []
    for m in methods:
        op = convention_op(m)
        if op in ("create", "put", "update"):
            hit = _entity_arg(catalog, m, key_name)
            if hit is not None:
                found.append(str(hit[0].name))
            if m.returns.kind is Kind.STRUCT:
                found.append(str(m.returns.name))
        elif op == "get" and m.returns.kind is Kind.STRUCT:
            found.append(str(m.returns.name))
    keyed = [q for q in dict.fromkeys(found) if key_field(catalog.struct(q), key_name) is not None]
    return tuple(keyed)
