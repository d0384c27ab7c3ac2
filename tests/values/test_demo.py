"""The demo IDL (idl/) and the real-world corpus: every answer is valid, survives the wire and reads back in
Apache's own generated code."""

from __future__ import annotations

import importlib
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from thrift.protocol import TBinaryProtocol
from thrift.transport import TTransport

from tests.corpus import CORPUS, FILES, MISSING
from tests.values.test_models import as_decoded, wire_round_trip
from thriftbox.errors import IdlError
from thriftbox.idl import Catalog, load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Kind
from thriftbox.values import ValueGenerator, is_valid, to_json

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "idl"
CORPUS_FILES = FILES
CORPUS_INCLUDES = {
    "facebookarchive__scribe": ["apache__thrift/contrib"],
    "pinterest__rocksplicator": ["pinterest__rocksplicator"],
}


@pytest.fixture(scope="module")
def demo() -> tuple[Catalog, Classes, ValueGenerator]:
    catalog = load_catalog([DEMO])
    classes = Classes(catalog)
    return catalog, classes, ValueGenerator(catalog, classes, seed=1)


def call_args(classes: Classes, catalog: Catalog, sid: str, method: str, **values: Any) -> Any:
    args = classes.args(sid, method)()
    for a in catalog.services[sid].methods[method].args:
        setattr(args, a.name, values.get(a.name))
    return args


def check_every_method(catalog: Catalog, classes: Classes, gen: ValueGenerator) -> int:
    """Answer every method and raise every declared exception; return how many values were checked."""
    checked = 0
    for svc, m in catalog.iter_methods():
        rng = random.Random(checked)
        result_cls = classes.result(svc.id, m.name)
        if m.returns.kind is not Kind.VOID:
            value = gen.answer(svc.id, m.name, call_args(classes, catalog, svc.id, m.name))
            assert is_valid(catalog, m.returns, value) or not gen.finite(m.returns), f"{svc.id}.{m.name}"
            back = wire_round_trip(result_cls(success=value))
            assert to_json(catalog, m.returns, back.success) == to_json(catalog, m.returns, as_decoded(value))
            checked += 1
        for exc in m.throws:
            err = gen.exception(str(exc.type.name), rng)
            assert is_valid(catalog, exc.type, err) or not gen.finite(exc.type), f"{m.name} throws {exc.name}"
            back = wire_round_trip(result_cls(**{exc.name: err}))
            assert to_json(catalog, exc.type, getattr(back, exc.name)) == to_json(
                catalog, exc.type, as_decoded(err)
            )
            checked += 1
    return checked


def test_demo_has_four_services_on_a_shared_base(demo: Any) -> None:
    catalog, _, _ = demo
    assert sorted(catalog.services) == [
        "ads.Ads",
        "catalog.Catalog",
        "common.BaseService",
        "feed.Feed",
        "users.Users",
    ]
    for sid in ("ads.Ads", "catalog.Catalog", "feed.Feed", "users.Users"):
        svc = catalog.services[sid]
        assert svc.extends == "common.BaseService"
        assert {"ping", "getVersion"} <= set(svc.methods)
    assert any(m.oneway for _, m in catalog.iter_methods())
    assert any(s.kind == "union" for s in catalog.structs.values())
    assert any("faker" in fd.annotations for s in catalog.structs.values() for fd in s.fields)


def test_every_demo_method_answers_valid_values_that_survive_the_wire(demo: Any) -> None:
    catalog, classes, gen = demo
    assert check_every_method(catalog, classes, gen) > 20


def test_home_feed_answers_for_the_user_asked_and_within_the_limit(demo: Any) -> None:
    catalog, classes, gen = demo
    for user_id in range(1, 30):
        page = gen.answer(
            "feed.Feed",
            "getHomeFeed",
            call_args(classes, catalog, "feed.Feed", "getHomeFeed", userId=user_id, limit=2),
        )
        assert page.userId == user_id
        assert 1 <= len(page.entries) <= 2
    user = gen.answer("users.Users", "getUser", call_args(classes, catalog, "users.Users", "getUser", id=42))
    assert user.id == 42
    assert "@" in user.email


def test_batch_calls_answer_exactly_the_ids_asked_for(demo: Any) -> None:
    catalog, classes, gen = demo
    users = gen.answer(
        "users.Users", "getUsers", call_args(classes, catalog, "users.Users", "getUsers", ids=[5, 6, 5, 7])
    )
    assert list(users) == [5, 6, 7]
    assert [u.id for u in users.values()] == [5, 6, 7]
    ids = ["item_a", "item_b"]
    items = gen.answer(
        "catalog.Catalog", "getItems", call_args(classes, catalog, "catalog.Catalog", "getItems", ids=ids)
    )
    assert [i.id for i in items] == ids
    assert (
        gen.answer("users.Users", "getUsers", call_args(classes, catalog, "users.Users", "getUsers", ids=[]))
        == {}
    )


def test_apache_compiles_the_demo_and_reads_our_answers(demo: Any, tmp_path: Path, monkeypatch: Any) -> None:
    thrift = shutil.which("thrift")
    if thrift is None:
        pytest.skip("Apache's thrift compiler is not installed")
    proc = subprocess.run(
        [thrift, "-r", "--gen", "py", "-out", str(tmp_path), str(DEMO / "feed.thrift")],
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "WARNING" not in output, output
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n == "homefeed" or n.startswith("homefeed.")]:
        monkeypatch.delitem(sys.modules, name)
    feed = importlib.import_module("homefeed.feed.Feed")

    catalog, classes, gen = demo
    for user_id in (1, 2, 3):
        args = call_args(classes, catalog, "feed.Feed", "getHomeFeed", userId=user_id, limit=3)
        ours = classes.result("feed.Feed", "getHomeFeed")(
            success=gen.answer("feed.Feed", "getHomeFeed", args)
        )
        theirs = feed.getHomeFeed_result()
        theirs.read(TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(encode(ours))))
        theirs.success.validate()  # Apache checks required fields
        assert theirs.success.userId == user_id
        assert [e.id for e in theirs.success.entries] == [e.id for e in ours.success.entries]
        for entry in theirs.success.entries:
            entry.validate()
            assert sum(x is not None for x in (entry.content.post, entry.content.item, entry.content.ad)) == 1


def encode(payload: Any) -> bytes:
    from thriftpy2.protocol import TCyBinaryProtocolFactory
    from thriftpy2.transport import TMemoryBuffer

    buf = TMemoryBuffer()
    proto = TCyBinaryProtocolFactory().get_protocol(buf)
    proto.write_struct(payload)
    proto.trans.flush()
    return bytes(buf.getvalue())


@pytest.mark.skipif(not CORPUS_FILES, reason=MISSING)
def test_every_corpus_method_answers_valid_values() -> None:
    checked = files = 0
    for path in CORPUS_FILES:
        includes = [CORPUS / d for d in CORPUS_INCLUDES.get(path.relative_to(CORPUS).parts[0], [])]
        try:
            catalog = load_catalog([path], includes)
        except IdlError:
            continue  # files Apache itself rejects: covered by the IDL tests
        if not catalog.services:
            continue
        classes = Classes(catalog)
        checked += check_every_method(catalog, classes, ValueGenerator(catalog, classes, seed=files))
        files += 1
    assert files >= 35
    assert checked >= 1200
