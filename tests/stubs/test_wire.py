"""Every stub rule kind over the wire: ``thriftbox serve idl --mocks mocks`` serves ``stubs_wire/shop.yaml``
and Apache's Python library calls it with code from Apache's compiler, as a team's own client would.

Each test asserts what that client sees: values, raised exceptions, how long a call takes, a connection that
drops, and that a new connection works after every fault.
"""

from __future__ import annotations

import importlib
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("thrift", reason="Apache's Python library (thrift) is not installed")

from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TApplicationException, TException
from thrift.transport import TSocket, TTransport

from tests.serve_support import Served, cli_env, serve, thriftbox_cmd
from thriftbox.control.client import request_json

pytestmark = pytest.mark.skipif(
    shutil.which("thrift") is None, reason="Apache's compiler (thrift) is not installed"
)

FIXTURES = Path(__file__).with_name("shop")
IDL = FIXTURES / "shop.thrift"
STUBS = FIXTURES / "shop.yaml"
GEN_PACKAGE = "tb_stubs_wire_gen"  # the generated `shop` package, renamed so it cannot shadow anything


# -- the served shop, Apache's generated code, and clients ----------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``thriftbox serve idl --mocks mocks`` in a project holding shop.thrift and shop.yaml."""
    root = tmp_path_factory.mktemp("stubs_wire")
    (root / "idl").mkdir()
    (root / "mocks").mkdir()
    shutil.copy(IDL, root / "idl")
    shutil.copy(STUBS, root / "mocks")
    with serve(root, ["idl"], "--mocks", "mocks") as s:
        yield s
        assert s.proc.poll() is None, f"serve died during the calls:\n{s.output()}"


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Apache's generated package for shop.thrift: ``gen.ttypes``, ``gen.Shop``, ``gen.Status``."""
    out = tmp_path_factory.mktemp("gen")
    subprocess.run(["thrift", "--gen", "py", "-out", str(out), str(IDL)], check=True, capture_output=True)
    (out / "shop").rename(out / GEN_PACKAGE)  # the generated modules import each other relatively
    sys.path.insert(0, str(out))
    try:
        package = importlib.import_module(GEN_PACKAGE)
        for sub in ("ttypes", "Shop", "Status"):
            setattr(package, sub, importlib.import_module(f"{GEN_PACKAGE}.{sub}"))
    finally:
        sys.path.remove(str(out))
    return package


_opened: list[Any] = []


@pytest.fixture(autouse=True)
def _close_transports() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


Connect = Callable[..., Any]


@pytest.fixture
def connect(served: Served, gen: Any) -> Connect:
    """``connect(timeout_ms=5000, service="Shop")``: a NEW binary/buffered connection and its client."""

    def _connect(timeout_ms: int = 5000, service: str = "Shop") -> Any:
        sock = TSocket.TSocket("127.0.0.1", served.port(f"shop.{service}"))
        sock.setTimeout(timeout_ms)
        trans = TTransport.TBufferedTransport(sock)
        trans.open()
        _opened.append(trans)
        # strictRead: a reply must start with a version header, as every Thrift server's does
        protocol = TBinaryProtocol.TBinaryProtocol(trans, strictRead=True)
        return getattr(gen, service).Client(protocol)

    return _connect


@pytest.fixture
def shop(connect: Connect) -> Any:
    return connect()


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def assert_new_connection_works(connect: Connect) -> None:
    assert connect().echo("still there?") == "still there?"


# -- matching ------------------------------------------------------------------------------------------


def test_an_exact_match_answers_and_fields_left_out_are_generated(shop: Any, gen: Any) -> None:
    item = shop.getItem(4242)
    assert isinstance(item, gen.ttypes.Item)
    assert (item.name, item.price) == ("Brass lamp", 49.5)
    assert isinstance(item.category, str)
    assert item.category
    assert isinstance(item.id, int)
    assert isinstance(item.tags, list)


def test_no_matching_rule_answers_with_generated_data(shop: Any, gen: Any) -> None:
    for item_id in (4241, 4243, 123456):
        item = shop.getItem(item_id)
        assert isinstance(item, gen.ttypes.Item)
        assert isinstance(item.name, str)
        assert item.name
        assert item.name not in ("Brass lamp", "one of three")
    assert shop.greet("Ada", "de") != "Bonjour Ada"


def test_any_matches_every_value(shop: Any) -> None:
    for name in ("Ada", "", "Zoë Ñandú", "x" * 200):
        assert shop.greet(name, "fr") == f"Bonjour {name}"


def test_regex_must_match_the_whole_string(shop: Any) -> None:
    assert shop.echo("secret-12") == "redacted"
    assert shop.echo("secret-") == "secret-"
    assert shop.echo("secret-12x") == "secret-12x"
    assert shop.echo("my secret-12") == "my secret-12"


def test_a_range_matches_from_gte_up_to_but_not_including_lt(shop: Any, gen: Any) -> None:
    for inside in (900, 950, 999):
        with pytest.raises(gen.ttypes.NotFound):
            shop.getItem(inside)
    for outside in (899, 1000):
        assert isinstance(shop.getItem(outside), gen.ttypes.Item)


def test_contains_matches_an_element_of_a_list_field(shop: Any, gen: Any) -> None:
    query = gen.ttypes.Query
    assert [i.name for i in shop.search(query(text="x", tags=["new", "sale", "blue"]))] == ["on sale"]
    assert [i.name for i in shop.search(query(tags=["sale"]))] == ["on sale"]
    for tags in (["new", "blue"], ["sales"], []):
        assert "on sale" not in [i.name for i in shop.search(query(tags=tags))]


def test_in_matches_any_of_its_values(shop: Any) -> None:
    for item_id in (7001, 7002, 7003):
        assert shop.getItem(item_id).name == "one of three"
    for item_id in (7000, 7004):
        assert shop.getItem(item_id).name != "one of three"


def test_a_nested_struct_field_of_an_argument_matches(shop: Any, gen: Any) -> None:
    t = gen.ttypes
    found = shop.search(t.Query(text="desk", filter=t.Filter(category="lighting", minStock=3)))
    assert [i.name for i in found] == ["nested match"]
    assert isinstance(found[0].category, str)  # the rest of the item is generated
    for q in (t.Query(filter=t.Filter(category="garden")), t.Query(text="lighting")):
        assert "nested match" not in [i.name for i in shop.search(q)]


# -- answers built from the request -------------------------------------------------------------------


def test_arg_echoes_the_argument(shop: Any) -> None:
    for s in ("hello", "", 'パイソン "quoted" {braces}'):
        assert shop.echo(s) == s


def test_a_template_renders_the_arguments(shop: Any, gen: Any) -> None:
    assert shop.greet("Grace", "fr") == "Bonjour Grace"
    with pytest.raises(gen.ttypes.NotFound) as raised:
        shop.getItem(917)
    assert raised.value.message == "no item 917"


# -- exceptions ----------------------------------------------------------------------------------------


def test_throw_raises_the_declared_exception_with_its_fields(shop: Any, gen: Any) -> None:
    with pytest.raises(gen.ttypes.NotFound) as raised:
        shop.getItem(904)
    assert (raised.value.message, raised.value.id) == ("no item 904", 904)
    assert shop.getItem(4242).name == "Brass lamp"  # the connection still answers


def test_app_error_raises_tapplicationexception_with_type_and_message(shop: Any) -> None:
    with pytest.raises(TApplicationException) as raised:
        shop.getItem(500)
    assert raised.value.type == TApplicationException.INTERNAL_ERROR
    assert raised.value.message == "database is down"
    assert shop.getItem(4242).name == "Brass lamp"


# -- sequences -----------------------------------------------------------------------------------------


def test_a_sequence_with_repeat_last_stays_on_its_last_answer(shop: Any) -> None:
    assert [shop.tick("last") for _ in range(5)] == [1, 2, 3, 3, 3]


def test_a_sequence_with_cycle_starts_over(shop: Any) -> None:
    seen: list[Any] = []
    for _ in range(5):
        try:
            seen.append(shop.tick("cycle"))
        except TApplicationException as e:
            seen.append(e.message)
    assert seen == [1, "second call fails", 3, 1, "second call fails"]


# -- latency -------------------------------------------------------------------------------------------


def test_a_fixed_latency_delays_every_call(shop: Any) -> None:
    for _ in range(2):
        answer, took = timed(lambda: shop.slow("fixed"))
        assert answer == "fixed"
        assert 0.3 <= took < 1.0
    _, unstubbed = timed(lambda: shop.slow("none"))
    assert unstubbed < 0.25  # the latency belongs to the rule, not the method


def test_a_uniform_latency_stays_between_min_and_max(shop: Any) -> None:
    took = []
    for _ in range(5):
        answer, t = timed(lambda: shop.slow("uniform"))
        assert answer == "uniform"
        took.append(t)
    assert all(0.15 <= t < 0.25 + 0.15 for t in took), took


def test_a_percentile_latency_is_centred_on_p50_and_varies(shop: Any) -> None:
    took = []
    for _ in range(7):
        answer, t = timed(lambda: shop.slow("percentile"))
        assert answer == "percentile"
        took.append(t)
    # p50 100 ms, p99 150 ms: a log-normal whose draws are four sigmas from 100 ms at 50 and 200 ms
    assert all(0.045 <= t < 1.5 for t in took), took
    assert 0.07 <= statistics.median(took) <= 0.15, took
    assert max(took) - min(took) > 0.005, took  # a shape, not a fixed delay


# -- faults --------------------------------------------------------------------------------------------


def test_fault_close_drops_the_connection(connect: Connect) -> None:
    shop = connect()
    with pytest.raises(TTransport.TTransportException) as raised:
        shop.flaky("close")
    assert raised.value.type == TTransport.TTransportException.END_OF_FILE
    assert_new_connection_works(connect)


def test_fault_garbage_is_not_a_thrift_reply(connect: Connect) -> None:
    for _ in range(3):  # random bytes: whatever they are, the client cannot read an answer from them
        shop = connect()
        with pytest.raises(TException):
            shop.flaky("garbage")
        assert_new_connection_works(connect)


def test_fault_stall_keeps_the_client_waiting_then_closes(connect: Connect) -> None:
    impatient = connect(timeout_ms=300)
    with pytest.raises(TTransport.TTransportException) as raised:
        impatient.flaky("stall")
    assert raised.value.type == TTransport.TTransportException.TIMED_OUT
    assert_new_connection_works(connect)  # while the stalled connection is still open

    patient = connect(timeout_ms=5000)
    start = time.monotonic()
    with pytest.raises(TTransport.TTransportException) as closed:
        patient.flaky("stall")
    assert closed.value.type == TTransport.TTransportException.END_OF_FILE
    assert 1.0 <= time.monotonic() - start < 4.0
    assert_new_connection_works(connect)


def test_a_fault_with_probability_zero_never_fires(shop: Any) -> None:
    assert [shop.flaky("never") for _ in range(20)] == ["survived"] * 20


# -- service defaults ----------------------------------------------------------------------------------


def test_the_default_rule_answers_every_method_without_a_rule_of_its_own(connect: Connect) -> None:
    status = connect(service="Status")
    assert status.health() == "up"
    for call in (status.version, status.motd):
        with pytest.raises(TApplicationException) as raised:
            call()
        assert raised.value.type == TApplicationException.INTERNAL_ERROR
        assert raised.value.message == "down for maintenance"


# -- state ---------------------------------------------------------------------------------------------


def test_stateful_create_then_get_list_and_delete(shop: Any, gen: Any) -> None:
    t = gen.ttypes
    new = t.NewItem(name="Walnut desk", price=320.0, tags=["wood", "desk"], category="furniture")
    created = shop.createItem(new)
    assert isinstance(created.id, int)
    assert (created.name, created.price, created.tags, created.category) == (
        "Walnut desk",
        320.0,
        ["wood", "desk"],
        "furniture",
    )
    assert shop.getItem(created.id) == created
    other = shop.createItem(t.NewItem(name="Oak shelf", price=90.0, tags=[], category="furniture"))
    assert other.id != created.id

    listed = shop.listItems(100)
    assert created in listed
    assert other in listed
    assert len(shop.listItems(1)) == 1  # the limit is honoured

    shop.deleteItem(created.id)
    with pytest.raises(t.NotFound):
        shop.getItem(created.id)
    assert created not in shop.listItems(100)
    assert shop.getItem(other.id) == other  # only the deleted item is gone


# -- the journal ---------------------------------------------------------------------------------------


def test_the_journal_names_the_stub_rule_that_answered(served: Served, shop: Any) -> None:
    admin = served.state()["admin_url"]
    cursor = request_json(f"{admin}/journal?service=Shop&method=echo")["cursor"]
    assert shop.echo("journal probe") == "journal probe"
    assert shop.echo("secret-7") == "redacted"
    entries = request_json(f"{admin}/journal?service=Shop&method=echo&since={cursor}")["entries"]
    lines = STUBS.read_text().splitlines()
    echo_rule = next(n for n, text in enumerate(lines, 1) if "journal-probe" in text)
    regex_rule = next(n for n, text in enumerate(lines, 1) if "secret-[0-9]+" in text)
    assert [(e["args"], e["source"]) for e in entries] == [
        ({"s": "journal probe"}, "stub"),
        ({"s": "secret-7"}, "stub"),
    ]
    stub_file = (served.root / "mocks" / "shop.yaml").resolve()
    named = [e["rule"].rpartition(":") for e in entries]
    assert [((served.root / path).resolve(), line) for path, _, line in named] == [
        (stub_file, str(echo_rule)),
        (stub_file, str(regex_rule)),
    ]
    # `thriftbox journal`, run in the project, names the file as the user knows it
    shown = subprocess.run(
        thriftbox_cmd("journal", "Shop.echo"), cwd=served.root, env=cli_env(), capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert f"[stub mocks/shop.yaml:{echo_rule}," in shown.stdout
    assert f"[stub mocks/shop.yaml:{regex_rule}," in shown.stdout
