"""Set members and map keys stay unique as a client decodes them: a struct field left unset counts as its
declared default, because decoders fill defaults in (found by the hypothesis property test)."""

from __future__ import annotations

import random
from typing import Any

from tests.values.test_models import BOOL, I32, Model, f, map_of, set_of, wire_round_trip
from thriftbox.values import ValueGenerator
from thriftbox.values.canon import decoded_key


def model() -> tuple[Model, Any, Any]:
    m = Model()
    flag = m.struct("Flag", f(1, "on", BOOL, "optional", default=False))
    holder = m.struct("Holder", f(1, "flags", set_of(flag)), f(2, "counts", map_of(flag, I32)))
    return m, flag, holder


def test_an_unset_field_and_its_default_are_the_same_member() -> None:
    m, flag, _ = model()
    cls = m.classes().struct(str(flag.name))
    assert decoded_key(cls(on=None)) == decoded_key(cls(on=False))
    assert decoded_key(cls(on=True)) != decoded_key(cls(on=False))


def test_generated_sets_and_struct_keyed_maps_never_repeat_on_the_wire() -> None:
    m, _, holder = model()
    gen = ValueGenerator(m.catalog, m.classes(), seed=0, max_depth=3)
    for seed in range(300):
        value = wire_round_trip(gen.value(holder, random.Random(seed)))  # what a client decodes
        members = [decoded_key(x) for x in value.flags or []]
        assert len(members) == len(set(members)), f"seed {seed}: {value.flags}"
        assert len(value.counts or {}) == len({decoded_key(k) for k in value.counts or {}})
