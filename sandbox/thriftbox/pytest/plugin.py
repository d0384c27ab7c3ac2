"""thriftbox's pytest plugin: the ``thriftbox`` fixture serves mocks of your IDL to contract tests.

Loaded into every pytest run once thriftbox is installed, so it stays inert until a test asks for the fixture:
importing it costs nothing beyond pytest, and nothing is served or fetched before. Options are ini keys with
matching flags (``thriftbox_idl`` / ``--thriftbox-idl``, ...); see docs/pytest-plugin.md.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from thriftbox.runtime.base import RUNTIME_NAMES

if TYPE_CHECKING:
    from thriftbox.pytest.fixture import Thriftbox
    from thriftbox.pytest.options import Settings

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
    (
        "tls_cert",
        "PEM certificate: the mocks answer TLS clients in TLS (and the fixture's clients use it)",
        "paths",
        "PEM",
    ),
    ("tls_key", "PEM private key of thriftbox_tls_cert", "paths", "PEM"),
    (
        "tls_client_ca",
        "PEM CA: the mocks require TLS clients to present a certificate it signed",
        "paths",
        "PEM",
    ),
    (
        "tls_client_cert",
        "PEM certificate the fixture's TLS clients present (with thriftbox_tls_client_ca)",
        "paths",
        "PEM",
    ),
    ("tls_client_key", "PEM private key of thriftbox_tls_client_cert", "paths", "PEM"),
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
    """The options, resolved (see :func:`thriftbox.pytest.options.resolve`)."""
    from thriftbox.pytest.options import resolve

    return resolve(config)


@pytest.fixture(scope="session")
def thriftbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Thriftbox]:
    """Mocks of every service of ``thriftbox_idl``, served for the session (once for all xdist workers)."""
    from thriftbox.errors import ThriftboxError
    from thriftbox.pytest.fixture import Thriftbox, worker_root
    from thriftbox.pytest.share import Share

    config = request.config
    try:
        options = settings(config)
    except pytest.UsageError as err:  # a bad value or thriftbox.toml: the message says where, no traceback
        problem = str(err)
    else:
        problem = ""
    if problem:
        pytest.fail(problem, pytrace=False)
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
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and box.dashboard_url:  # in the report, once serving
        with capture.global_and_fixture_disabled():  # the fixture's set-up output is captured otherwise
            reporter.write_line(f"thriftbox dashboard: {box.dashboard_url}")
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
        from thriftbox.contract.interactions import write_contract

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
