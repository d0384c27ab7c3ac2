"""Property: for any model (random structs, unions, exceptions, enums, nested containers, recursion), generated
values are valid, survive thriftpy2's binary protocol and round-trip through JSON."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.values.test_models import (
    BINARY,
    BOOL,
    BYTE,
    DOUBLE,
    I16,
    I32,
    I64,
    STRING,
    UUID,
    Model,
    alias,
    as_decoded,
    f,
    list_of,
    map_of,
    set_of,
    wire_round_trip,
)
from thriftbox.idl.model import Kind, TypeRef
from thriftbox.values import ValueGenerator, from_json, is_valid, to_json

SCALARS = [
    BOOL,
    BYTE,
    I16,
    I32,
    I64,
    DOUBLE,
    STRING,
    BINARY,
    UUID,
    alias(I64, "Timestamp"),
    alias(STRING, "Url"),
]
NAMES = [
    "id", "userId", "name", "email", "createdAt", "price", "tags", "count", "url", "status", "rating", "score",
    "description", "isActive", "latitude", "version", "token", "children", "next", "value", "items", "age",
]  # fmt: skip
DEFAULTS = {
    Kind.BOOL: st.booleans(),
    Kind.I32: st.integers(-(2**31), 2**31 - 1),
    Kind.STRING: st.text(max_size=5),
}


@st.composite
def models(draw: st.DrawFn) -> tuple[Model, list[TypeRef]]:
    m = Model()
    enums = []
    for i in range(draw(st.integers(0, 2))):
        values = draw(st.lists(st.integers(-5, 2**31 - 1), min_size=1, max_size=4, unique=True))
        enums.append(m.enum(f"E{i}", **{f"V{j}": v for j, v in enumerate(values)}))
    refs = [TypeRef(Kind.STRUCT, f"models.S{i}") for i in range(draw(st.integers(1, 4)))]
    leaves = st.sampled_from(SCALARS + enums + refs)
    keys = st.sampled_from([*SCALARS, *enums, *refs])
    types = st.recursive(
        leaves,
        lambda inner: st.one_of(
            inner.map(list_of), inner.map(set_of), st.tuples(keys, inner).map(lambda kv: map_of(*kv))
        ),
        max_leaves=4,
    )
    for ref in refs:
        kind = draw(st.sampled_from(["struct", "struct", "union", "exception"]))
        names = draw(
            st.lists(
                st.sampled_from(NAMES) | st.from_regex(r"[a-z][a-zA-Z0-9_]{0,8}", fullmatch=True),
                min_size=1 if kind == "union" else 0,
                max_size=6,
                unique=True,
            )
        )
        fields = []
        for j, name in enumerate(names):
            t = draw(types)
            req = draw(st.sampled_from(["required", "optional", "default"]))
            default = draw(DEFAULTS[t.kind]) if t.kind in DEFAULTS and draw(st.booleans()) else None
            fields.append(f(j + 1, name, t, req, default))
        m.struct(str(ref.name).split(".")[1], *fields, kind=kind)
    return m, refs


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=models(), seed=st.integers(0, 2**32), max_depth=st.integers(0, 3))
def test_generated_values_are_valid_and_round_trip(
    model: tuple[Model, list[TypeRef]], seed: int, max_depth: int
) -> None:
    m, refs = model
    classes = m.classes()
    gen = ValueGenerator(m.catalog, classes, seed=1, max_depth=max_depth)
    assume(all(gen.finite(r) for r in refs))
    for ref in refs:
        v: Any = gen.value(ref, random.Random(seed))
        assert is_valid(m.catalog, ref, v)
        expected = to_json(m.catalog, ref, as_decoded(v))
        assert to_json(m.catalog, ref, wire_round_trip(v)) == expected
        shown = json.loads(json.dumps(to_json(m.catalog, ref, v)))
        assert to_json(m.catalog, ref, from_json(m.catalog, classes, ref, shown)) == expected
        assert to_json(m.catalog, ref, gen.value(ref, random.Random(seed))) == to_json(m.catalog, ref, v)
