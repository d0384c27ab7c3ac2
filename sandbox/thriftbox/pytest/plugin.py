"""thriftbox's pytest plugin: the ``thriftbox`` fixture serves mocks of your IDL to contract tests.

Loaded into every pytest run once thriftbox is installed, so it stays inert until a test asks for the fixture:
importing it costs nothing beyond pytest, and nothing is served or fetched before. Options are ini keys with
matching flags (``thriftbox_idl`` / ``--thriftbox-idl``, ...); see docs/pytest-plugin.md.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from thriftbox.runtime.base import RUNTIME_NAMES

if TYPE_CHECKING:
    from thriftbox.pytest.fixture import Settings, Thriftbox

BOX = pytest.StashKey["Thriftbox"]()
RECORDED = pytest.StashKey[list[dict[str, Any]]]()  # contract interactions, the controller's (all workers')
WRITTEN = pytest.StashKey[tuple[Path, int]]()
ALLOW = "thriftbox_allow_violations"
WORKER_OUTPUT = "thriftbox_interactions"

# name, help, ini type, metavar
OPTIONS = (
    ("idl", "folders or files of .thrift IDL to serve (repeatable)", "paths", "PATH"),
    ("include", "folders that IDL includes resolve against (repeatable)", "paths", "DIR"),
    ("mocks", "a folder (or file) of stub files", "paths", "PATH"),
    ("runtime", "where mocks run: auto (Docker when an engine answers), process or docker", "string", "NAME"),
    ("seed", "seed of the generated data (default 0)", "string", "N"),
    ("port", "first port to serve on (default: any free range)", "string", "PORT"),
    ("contract", "write the interactions the tests relied on to this contract file", "paths", "PATH"),
)
REPEATABLE = ("idl", "include")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("thriftbox", "thriftbox: Thrift mocks for contract tests")
    for name, text, kind, metavar in OPTIONS:
        flag = f"--thriftbox-{name}"
        action = "append" if name in REPEATABLE else "store"
        extra: dict[str, Any] = {"choices": RUNTIME_NAMES} if name == "runtime" else {}
        group.addoption(flag, action=action, dest=f"thriftbox_{name}", metavar=metavar, help=text, **extra)
        parser.addini(f"thriftbox_{name}", f"{text} (or {flag})", type=kind)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{ALLOW}: the test means to send calls that break the IDL; thriftbox does not fail it"
    )


def settings(config: pytest.Config) -> Settings:
    """The options, flags over ini keys; flag paths are relative to where pytest was started, ini paths to
    the ini file. Raises pytest.UsageError for a value that cannot be used."""
    from thriftbox.pytest.fixture import Settings

    here = config.invocation_params.dir

    def paths(name: str) -> list[Path]:
        flag = config.getoption(f"thriftbox_{name}")
        if flag:
            return [here / p for p in ([flag] if isinstance(flag, str) else flag)]
        return list(config.getini(f"thriftbox_{name}"))

    def one(name: str) -> Path | None:
        found = paths(name)
        if len(found) > 1:
            raise pytest.UsageError(f"thriftbox_{name} takes one path, got {len(found)}")
        return found[0] if found else None

    def text(name: str) -> str:
        return str(config.getoption(f"thriftbox_{name}") or config.getini(f"thriftbox_{name}") or "").strip()

    def number(name: str) -> int | None:
        value = text(name)
        try:
            return int(value) if value else None
        except ValueError:
            raise pytest.UsageError(f"thriftbox_{name} must be a number, not {value!r}") from None

    runtime = text("runtime") or "auto"
    if runtime not in RUNTIME_NAMES:
        names = ", ".join(RUNTIME_NAMES[:-1]) + " or " + RUNTIME_NAMES[-1]
        raise pytest.UsageError(f"thriftbox_runtime must be {names}, not {runtime!r}")
    return Settings(
        idl=tuple(paths("idl")),
        include_dirs=tuple(paths("include")),
        mocks=one("mocks"),
        runtime=runtime,
        seed=number("seed") or 0,
        port=number("port"),
        contract=one("contract"),
    )


@pytest.fixture(scope="session")
def thriftbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Thriftbox]:
    """Mocks of every service of ``thriftbox_idl``, served for the session (once for all xdist workers)."""
    from thriftbox.errors import ThriftboxError
    from thriftbox.pytest.fixture import Thriftbox, worker_root
    from thriftbox.pytest.share import Share

    config = request.config
    options = settings(config)
    if not options.idl:
        pytest.fail(
            "thriftbox: no IDL to serve; set thriftbox_idl in your pytest configuration", pytrace=False
        )
    workerinput = getattr(config, "workerinput", None)
    worker = int(str(workerinput["workerid"]).lstrip("gw") or 0) if workerinput else 0
    basetemp = tmp_path_factory.getbasetemp()
    share = Share(basetemp.parent, str(workerinput["workerid"])) if workerinput else None
    box = Thriftbox(options, worker_root(basetemp), worker, share)
    problem = ""
    try:
        box.start()
    except ThriftboxError as err:
        problem = f"thriftbox could not serve the mocks: {err}" + (f"\nhint: {err.hint}" if err.hint else "")
    if problem:  # failed outside the except block, so pytest shows no chained traceback
        pytest.fail(problem, pytrace=False)
    config.stash[BOX] = box
    try:
        yield box
    finally:
        del config.stash[BOX]
        try:
            box.stop()
        finally:
            config.stash.setdefault(RECORDED, []).extend(box.recorded)


@pytest.fixture(autouse=True)
def _thriftbox_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Gives each test a clean journal, and takes its stubs, clients and (unless the mocks are shared between
    xdist workers) stored state away after it."""
    box = request.config.stash.get(BOX, None)
    if box is not None:
        box.begin_test()
    yield
    box = request.config.stash.get(BOX, None)
    if box is None:
        return
    from thriftbox.errors import ThriftboxError

    try:
        problems = box.end_test()
    except ThriftboxError as err:
        problems, broken = [], f"thriftbox: {err}"
    else:
        broken = ""
    if broken:
        pytest.fail(broken, pytrace=False)
    if problems and request.node.get_closest_marker(ALLOW) is None:
        pytest.fail(_violations(problems), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Fails a test whose calls the mocks rejected for breaking the IDL (unless it is marked to allow it)."""
    try:
        result = yield
    except Exception as exc:
        box = item.config.stash.get(BOX, None)
        problems = box.take_violations() if box is not None else []
        untold = [p for p in problems if p.split(": ", 1)[-1] not in str(exc)]
        if untold and item.get_closest_marker(ALLOW) is None:
            exc.add_note(_violations(untold))
        raise
    box = item.config.stash.get(BOX, None)
    if box is not None:
        problems = box.take_violations()
        if problems and item.get_closest_marker(ALLOW) is None:
            pytest.fail(_violations(problems), pytrace=False)
    return result


def _violations(problems: list[str]) -> str:
    lines = "\n".join(f"  {p}" for p in problems)
    return (
        f"thriftbox: the mock rejected call(s) that break the IDL:\n{lines}\n"
        f"(a test that means to send such calls: @pytest.mark.{ALLOW})"
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Writes the contract file (the controller does, for all xdist workers)."""
    config = session.config
    recorded = config.stash.get(RECORDED, [])
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKER_OUTPUT] = recorded
        return
    path = settings(config).contract if _wants_contract(config) else None
    if path is not None:
        config.stash[WRITTEN] = (path, write_contract(path, recorded))


def _wants_contract(config: pytest.Config) -> bool:
    return bool(config.getoption("thriftbox_contract") or config.getini("thriftbox_contract"))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: collects a worker's interactions for the contract."""
    items = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
    if items:
        node.config.stash.setdefault(RECORDED, []).extend(items)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    written = config.stash.get(WRITTEN, None)
    if written is not None:
        path, count = written
        terminalreporter.write_line(f"thriftbox: wrote {count} interaction(s) to the contract {path}")


# -- the contract file ----------------------------------------------------------------------------------


def journal_violations(entries: list[dict[str, Any]]) -> list[str]:
    """Calls the mock rejected for breaking the IDL, as far as the journal shows them (a stub's own
    PROTOCOL_ERROR answer is not one)."""
    return [
        f"{e['service']}: {e['reply'].get('message', '')}"
        for e in entries
        if e["reply"].get("kind") == "app_error"
        and e["reply"].get("type") == "PROTOCOL_ERROR"
        and e.get("source") not in ("stub", "state")
    ]


def interaction(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The contract interaction a journal entry stands for, or None when a provider cannot be held to it:
    an answer a test arranged with :meth:`Thriftbox.stub`, a fault, a oneway call, a rejected call."""
    reply = entry["reply"]
    kind = reply.get("kind")
    if str(entry.get("rule") or "").startswith("api:") or kind not in ("success", "exception", "app_error"):
        return None
    if journal_violations([entry]):
        return None
    if kind == "success":
        expect: dict[str, Any] = {"result": reply.get("value")}
    elif kind == "exception":
        expect = {"exception": reply["type"], "value": reply.get("value")}
    else:
        expect = {"exception": "TApplicationException", "type": reply["type"]}
    return {"service": entry["service"], "method": entry["method"], "args": entry["args"], "expect": expect}


def contract_key(item: dict[str, Any]) -> tuple[str, str, str, str]:
    """What makes two interactions the same: the call and the kind of outcome (not generated values)."""
    expect = item["expect"]
    outcome = "result" if "result" in expect else f"{expect['exception']}:{expect.get('type', '')}"
    return item["service"], item["method"], json.dumps(item["args"], sort_keys=True), outcome


def merge_interactions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One interaction per call and outcome (the first seen), in a stable order whatever the test order."""
    unique: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for item in items:
        unique.setdefault(contract_key(item), item)
    return [unique[k] for k in sorted(unique)]


def write_contract(path: Path, items: list[dict[str, Any]]) -> int:
    """Write a contract file (:mod:`thriftbox.contract.interactions`); returns how many interactions."""
    merged = merge_interactions(items)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    return len(merged)
