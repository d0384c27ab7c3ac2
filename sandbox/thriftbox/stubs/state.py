"""The simulated database of stateful services: what create/put/update store, get/list read and delete removes.

Entities are kept in their JSON form (``thriftbox.values.convert.to_json``), keyed by service, collection
(qualified struct name) and the text of their key. JSON keeps the store valid across reloads, which rebuild
the payload classes, and lets the admin API show it as is.

Whatever was never stored is generated: a get of an unknown key answers a generated entity carrying that key
(or, with ``state: {missing: throw}``, the method's not-found exception), and a list of a collection nothing
was ever written to answers generated data. A get of a *deleted* key raises the method's not-found exception
when it declares one (an exception whose name says not found / no such / missing / unknown).
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from thriftbox.idl.model import Kind, Method, TypeRef
from thriftbox.stubs.crud import Plan
from thriftbox.stubs.templates import Render, arg_value
from thriftbox.values.canon import derive_seed
from thriftbox.values.convert import (
    INT_RANGES,
    ValueConversionError,
    from_json,
    override_from_json,
    to_json,
)
from thriftbox.wire.app import APP_ERROR_TYPES, AppError, Raise, Reply, Success

Missing = Literal["generate", "throw"]
_NOT_FOUND = re.compile(r"not_?found|no_?such|missing|unknown|does_?not_?exist|absent", re.I)
_MESSAGE = re.compile(r"message|msg|reason|error|description|detail", re.I)
_LIMIT = ("limit", "max", "count", "size", "pagesize", "page_size", "maxresults", "max_results", "first")
_OFFSET = ("offset", "skip", "start", "from")
_TOTAL = ("total", "count", "totalcount", "total_count", "size")


@dataclass
class StateStore:
    """Entities in JSON form: ``data[service_id][collection][key] = obj``. Survives reloads."""

    data: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    next_id: dict[tuple[str, str], int] = field(default_factory=dict)

    def collection(self, service_id: str, collection: str) -> dict[str, Any]:
        return self.data.setdefault(service_id, {}).setdefault(collection, {})

    def stored(self, service_id: str, collection: str) -> dict[str, Any]:
        """The collection's entities, without creating it (an empty dict when nothing was written)."""
        return self.data.get(service_id, {}).get(collection, {})

    def touched(self, service_id: str, collection: str) -> bool:
        return collection in self.data.get(service_id, {})

    def reset(self, service_id: str | None = None) -> None:
        if service_id is None:
            self.data.clear()
            self.deleted.clear()
            self.next_id.clear()
            return
        self.data.pop(service_id, None)
        for table in (self.deleted, self.next_id):
            for k in [k for k in table if k[0] == service_id]:
                del table[k]

    def dump(self) -> dict[str, Any]:
        """Everything, JSON-ready, for :meth:`load` in another process (host.persist)."""
        return {
            "data": self.data,
            "deleted": [[s, c, sorted(keys)] for (s, c), keys in self.deleted.items()],
            "next_id": [[s, c, n] for (s, c), n in self.next_id.items()],
        }

    def load(self, dumped: dict[str, Any]) -> None:
        """Take back what :meth:`dump` gave."""
        self.data = {str(s): dict(colls) for s, colls in (dumped.get("data") or {}).items()}
        self.deleted = {(str(s), str(c)): set(keys) for s, c, keys in dumped.get("deleted") or []}
        self.next_id = {(str(s), str(c)): int(n) for s, c, n in dumped.get("next_id") or []}

    def snapshot(self, service_id: str | None = None) -> dict[str, Any]:
        """A JSON-ready copy: ``{service: {collection: {key: entity}}}``."""
        return {
            sid: {coll: dict(items) for coll, items in colls.items()}
            for sid, colls in self.data.items()
            if service_id is None or sid == service_id
        }


def key_text(value: Any) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)


@dataclass
class Outcome:
    """What a state operation did: ``reply`` None means "generated data"; ``hit`` whether state answered."""

    reply: Reply | None
    hit: bool


def apply(
    store: StateStore, service_id: str, method: Method, plan: Plan, r: Render, missing: Missing
) -> Outcome | None:
    """Run ``plan`` for one call; None when the call does not carry what the plan needs (no key, no entity)."""
    entity_t = TypeRef(Kind.STRUCT, name=plan.collection)
    if plan.op in ("create", "put", "update"):
        return _write(store, service_id, method, plan, r, entity_t)
    if plan.op == "list":
        if not store.touched(service_id, plan.collection):
            return Outcome(None, False)
        return Outcome(_listed(store, service_id, method, plan, r, entity_t, missing), True)
    key = arg_value(r.args, plan.key_path)
    if key is None:
        return None
    k = key_text(key)
    # a read must not create the collection: a list of it would then answer from (empty) state
    items = (
        store.collection(service_id, plan.collection)
        if plan.op == "delete"
        else store.stored(service_id, plan.collection)
    )
    absent = k in store.deleted.get((service_id, plan.collection), set()) or missing == "throw"
    if plan.op == "delete":
        removed = items.pop(k, None)
        if removed is not None:
            store.deleted.setdefault((service_id, plan.collection), set()).add(k)
        elif absent and (raised := not_found(method, plan, r, key)) is not None:
            return Outcome(raised, True)
        return Outcome(_deleted(method, plan, r, entity_t, removed), True)
    if k in items:
        value = _load(r, entity_t, items[k])
        if value is not None:
            return Outcome(Success(value) if _same_struct(method, plan) else None, True)
    if absent:
        raised = not_found(method, plan, r, key)
        if raised is not None:
            return Outcome(raised, True)
    if not _same_struct(method, plan):
        return Outcome(None, False)
    key_field = r.catalog.struct(plan.collection).field_named(plan.key_field)
    echoed = {plan.key_field: key} if key_field is not None and fits_int(key_field.type, key) else None
    return Outcome(Success(r.generator.answer(service_id, method.name, r.args, echoed)), False)


def _write(
    store: StateStore, service_id: str, method: Method, plan: Plan, r: Render, entity_t: TypeRef
) -> Outcome | None:
    entity = arg_value(r.args, plan.entity_path)
    if entity is None:
        return None
    source_t = TypeRef(Kind.STRUCT, name=plan.source) if plan.source else entity_t
    obj = to_json(r.catalog, source_t, entity)
    assert isinstance(obj, dict)
    if plan.source:  # NewUser -> User: the fields both have
        obj = {name: v for name, v in obj.items() if _fits(r, entity_t, name, v)}
    key = getattr(entity, plan.key_field, None)
    if plan.op == "create" and key in (None, 0, "", b""):
        key = _new_key(store, service_id, plan, r)
        if key is None:  # every key the type can hold is taken
            entity = r.catalog.struct(plan.collection).name
            message = f"no {plan.key_type} key left for a new {entity}"
            return Outcome(AppError(APP_ERROR_TYPES["INTERNAL_ERROR"], message), True)
    elif key is None:
        return None
    obj[plan.key_field] = to_json(r.catalog, plan.key_type, key)
    items = store.collection(service_id, plan.collection)
    k = key_text(key)
    if plan.op == "update" and k in items:
        obj = {**items[k], **obj}
    elif plan.source:  # the fields the argument does not have are made up once, then kept
        made = r.generator.value(
            entity_t,
            r.rng,
            override=override_from_json(r.catalog, r.classes, entity_t, obj),
            fresh=plan.op == "create",  # a user created now was not created two years ago
        )
        obj = cast(dict[str, Any], to_json(r.catalog, entity_t, made))
    items[k] = obj
    store.deleted.get((service_id, plan.collection), set()).discard(k)
    return Outcome(_written(method, plan, r, entity_t, obj, key), True)


def _fits(r: Render, t: TypeRef, name: str, value: Any) -> bool:
    f = r.catalog.struct(str(t.name)).field_named(name)
    if f is None:
        return False
    try:
        from_json(r.catalog, r.classes, f.type, value)
    except ValueConversionError:
        return False
    return True


def fits_int(t: TypeRef, value: Any) -> bool:
    """Whether ``value`` may be sent as a ``t``: any value for a type that is no integer, else an int in
    range (a key of one width copied into a field of another must not break the answer on the wire)."""
    bounds = INT_RANGES.get(t.kind)
    if bounds is None:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _same_struct(method: Method, plan: Plan) -> bool:
    return method.returns.kind is Kind.STRUCT and method.returns.name == plan.collection


def _new_key(store: StateStore, service_id: str, plan: Plan, r: Render) -> Any:
    if plan.key_type.kind in (Kind.STRING, Kind.UUID, Kind.BINARY):
        made = uuid.UUID(int=r.rng.getrandbits(128), version=4)
        return {Kind.STRING: str(made), Kind.UUID: made.bytes, Kind.BINARY: made.bytes}[plan.key_type.kind]
    slot = (service_id, plan.collection)
    taken = [int(k) for k in store.collection(service_id, plan.collection) if k.lstrip("-").isdigit()]
    n = max([store.next_id.get(slot, 0), *taken]) + 1
    if not fits_int(plan.key_type, n):
        return None
    store.next_id[slot] = n
    return n


def _load(r: Render, t: TypeRef, obj: Any) -> Any:
    try:
        return from_json(r.catalog, r.classes, t, obj, "state")
    except ValueConversionError:  # stored before the IDL changed and no longer fits
        return None


def _written(method: Method, plan: Plan, r: Render, entity_t: TypeRef, obj: Any, key: Any) -> Reply | None:
    ret = method.returns
    if ret.kind is Kind.VOID:
        return Success(None)
    if _same_struct(method, plan):
        return Success(_load(r, entity_t, obj))
    if ret.kind is Kind.BOOL:
        return Success(True)
    if ret.kind is plan.key_type.kind or (ret.kind in (Kind.I32, Kind.I64) and isinstance(key, int)):
        return Success(key) if fits_int(ret, key) else None
    return None


def _listed(
    store: StateStore,
    service_id: str,
    method: Method,
    plan: Plan,
    r: Render,
    entity_t: TypeRef,
    missing: Missing,
) -> Reply | None:
    stored = store.collection(service_id, plan.collection)
    entities = list(stored.items())
    requested: list[Any] = []  # getUsers(ids): keys asked for by name
    entity_fields = {f.name: f for f in r.catalog.struct(plan.collection).fields}
    limit, offset = None, 0
    for name, t, value in _inputs(r, method):
        low = name.lower()
        if low in _LIMIT and isinstance(value, int):
            limit = value
        elif low in _OFFSET and isinstance(value, int):
            offset = value
        elif name in entity_fields and t.kind in _FILTERABLE:
            wanted = to_json(r.catalog, t, value)
            entities = [(k, obj) for k, obj in entities if obj.get(name) == wanted]
        elif t.kind in (Kind.LIST, Kind.SET) and (low in ("ids", "keys") or name.endswith(("Ids", "_ids"))):
            keys = {key_text(v) for v in value}
            entities = [(k, obj) for k, obj in entities if k in keys]
            requested = list(value)
    if requested and missing == "generate":  # reads always answer: keys never stored are made up, as get does
        gone = store.deleted.get((service_id, plan.collection), set())
        have = {k for k, _ in entities}
        for key in requested:
            k = key_text(key)
            if k not in have and k not in gone and k not in stored:
                have.add(k)
                entities.append((k, _generated(r, service_id, plan, entity_t, key)))
    entities = entities[offset : None if limit is None or limit <= 0 else offset + limit]
    values = [v for v in (_load(r, entity_t, obj) for _, obj in entities) if v is not None]
    ret = method.returns
    if ret.kind in (Kind.LIST, Kind.SET):
        return Success(values)
    if ret.kind is Kind.MAP:
        return Success({getattr(v, plan.key_field): v for v in values})
    if plan.list_field:
        override: dict[str, Any] = {plan.list_field: values}
        for f in r.catalog.struct(str(ret.name)).fields:
            if f.name.lower() in _TOTAL and f.type.kind in (Kind.I16, Kind.I32, Kind.I64):
                override[f.name] = len(stored)
        return Success(r.generator.value(ret, r.rng, override=override))
    return None


def _generated(r: Render, service_id: str, plan: Plan, entity_t: TypeRef, key: Any) -> Any:
    """The JSON form of the entity a read of a never-stored ``key`` makes up: a pure function of the key."""
    rng = random.Random(
        derive_seed(r.generator.seed, service_id, plan.collection, "\x1dmissing", key_text(key))
    )
    made = r.generator.value(entity_t, rng, override={plan.key_field: key})
    return to_json(r.catalog, entity_t, made)


def _inputs(r: Render, method: Method) -> list[tuple[str, TypeRef, Any]]:
    """The set arguments, and the set fields of struct arguments (``listUsers(UserQuery query)``)."""
    out = []
    for a in method.args:
        value = getattr(r.args, a.name, None)
        if value is None:
            continue
        if a.type.kind is Kind.STRUCT:
            for f in r.catalog.struct(str(a.type.name)).fields:
                inner = getattr(value, f.name, None)
                if inner is not None:
                    out.append((f.name, f.type, inner))
        else:
            out.append((a.name, a.type, value))
    return out


_FILTERABLE = frozenset(
    {Kind.BOOL, Kind.BYTE, Kind.I16, Kind.I32, Kind.I64, Kind.DOUBLE, Kind.STRING, Kind.ENUM}
)


def _deleted(method: Method, plan: Plan, r: Render, entity_t: TypeRef, removed: Any) -> Reply | None:
    ret = method.returns
    if ret.kind is Kind.VOID:
        return Success(None)
    if ret.kind is Kind.BOOL:
        return Success(removed is not None)
    if ret.kind in (Kind.I16, Kind.I32, Kind.I64) and plan.key_type.kind is not ret.kind:
        return Success(1 if removed is not None else 0)
    if _same_struct(method, plan) and removed is not None:
        return Success(_load(r, entity_t, removed))
    return None


def not_found(method: Method, plan: Plan, r: Render, key: Any) -> Reply | None:
    """The method's declared not-found exception, with a message naming the key; None when it has none."""
    exc = next((f for f in method.throws if _NOT_FOUND.search(f"{f.name} {f.type.name}")), None)
    if exc is None:
        return None
    entity = r.catalog.struct(plan.collection).name
    override: dict[str, Any] = {}
    strings = []
    for f in r.catalog.struct(str(exc.type.name)).fields:
        low = f.name.lower()
        if low.endswith("id") and f.type.kind is Kind.STRING:
            override[f.name] = key_text(key)
        elif low.endswith("id") and f.type.kind in (Kind.I32, Kind.I64) and fits_int(f.type, key):
            override[f.name] = key
        elif f.type.kind is Kind.STRING and ("type" in low or "kind" in low):
            override[f.name] = entity
        elif f.type.kind is Kind.STRING:
            strings.append(f.name)
    text = next((n for n in strings if _MESSAGE.search(n)), strings[0] if strings else None)
    if text is not None:
        override[text] = f"{entity} {key_text(key)} not found"
    return Raise(exc.name, r.generator.exception(str(exc.type.name), r.rng, override))
