"""Which answer a call gets is a pure function of (seed, service, method, canonical arguments): the generator's
shortcuts for the usual arguments (plain scalars) must pick exactly what the documented functions pick, so
answers do not change between versions or processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.values import ValueGenerator, to_json
from thriftbox.values.canon import canonical, derive_seed

DEMO = Path(__file__).resolve().parents[2] / "idl"
CATALOG = load_catalog([DEMO])
CLASSES = Classes(CATALOG)
SEED = 11


def generators() -> tuple[ValueGenerator, ValueGenerator]:
    """A generator as shipped, and one that picks through the documented functions only."""
    fast = ValueGenerator(CATALOG, CLASSES, seed=SEED, variants=64)
    reference = ValueGenerator(CATALOG, CLASSES, seed=SEED, variants=64)
    reference._canonical_args = canonical  # type: ignore[method-assign]
    reference._call_seed = lambda s, m, key: derive_seed(SEED, s, m, key)  # type: ignore[method-assign]
    return fast, reference


FAST, REFERENCE = generators()


def same_answer(service: str, method: str, args: Any) -> None:
    returns = CATALOG.services[service].methods[method].returns
    fast = to_json(CATALOG, returns, FAST.answer(service, method, args))
    assert fast == to_json(CATALOG, returns, REFERENCE.answer(service, method, args))


@settings(max_examples=150, deadline=None)
@given(
    user=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    limit=st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    cursor=st.one_of(st.none(), st.text(max_size=12)),
)
def test_scalar_arguments_pick_the_documented_variant(
    user: int | None, limit: int | None, cursor: str | None
) -> None:
    args = CLASSES.args("feed.Feed", "getHomeFeed")(userId=user, limit=limit, cursor=cursor)
    same_answer("feed.Feed", "getHomeFeed", args)


@settings(max_examples=60, deadline=None)
@given(ids=st.lists(st.integers(0, 2**40), max_size=4))
def test_container_arguments_pick_the_documented_answer(ids: list[int]) -> None:
    args = CLASSES.args("catalog.Catalog", "getItems")(ids=ids)
    same_answer("catalog.Catalog", "getItems", args)


def test_struct_arguments_pick_the_documented_variant() -> None:
    request_cls = CLASSES.args("catalog.Catalog", "search").thrift_spec[1][2]
    for text in ("shoes", "hats", ""):
        same_answer(
            "catalog.Catalog",
            "search",
            CLASSES.args("catalog.Catalog", "search")(request=request_cls(query=text)),
        )


def test_distinct_arguments_still_spread_over_the_variants() -> None:
    make = CLASSES.args("feed.Feed", "getHomeFeed")
    picks = {
        FAST._call_seed("feed.Feed", "getHomeFeed", FAST._canonical_args(make(userId=i))) % 64
        for i in range(200)
    }
    assert len(picks) > 50
