"""The object behind the ``thriftbox`` pytest fixture: serve the mocks, hand out clients, stub, read the journal.

Imported only when a test uses the fixture (see :mod:`thriftbox.pytest.plugin`, which stays import-light).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thriftpy2.thrift import TApplicationException, TClient

from thriftbox.client.transport import open_transport
from thriftbox.contract.interactions import interaction, journal_violations
from thriftbox.control.client import AdminClient, ControlError
from thriftbox.control.messages import JournalQuery
from thriftbox.errors import ConfigError, MockStartError, PortInUse, ThriftboxError
from thriftbox.idl.model import Catalog
from thriftbox.project.ports import port_free
from thriftbox.pytest.options import Settings
from thriftbox.pytest.share import Share, source_address
from thriftbox.supervisor.session import Session, serve

logger = logging.getLogger(__name__)

_UNSET: Any = object()
WORKER_PORT_SPAN = 100  # an xdist worker that serves its own mocks (Docker) starts at base + (n + 1) * span


@dataclass(frozen=True)
class RecordedCall:
    """One journaled call: ``args`` and ``reply`` in JSON form, as in stub files and the admin API."""

    service: str
    method: str
    args: dict[str, Any]
    reply: dict[str, Any]
    source: str
    rule: str | None
    proxied: dict[str, Any] | None = None  # a proxying mock's call: its backend, latency (and error)
    violations: tuple[str, ...] = ()  # how the backend's answer breaks the IDL (proxied calls)

    @classmethod
    def of(cls, entry: dict[str, Any]) -> RecordedCall:
        return cls(
            entry["service"],
            entry["method"],
            entry["args"],
            entry["reply"],
            entry["source"],
            entry["rule"],
            entry.get("proxied"),
            tuple(entry.get("violations") or ()),
        )


@dataclass
class Stub:
    """A rule added by :meth:`Thriftbox.stub`; :meth:`remove` takes it back before the test ends."""

    id: str
    service: str
    method: str | None
    _remove: Callable[[str], None] = field(repr=False)

    def remove(self) -> None:
        self._remove(self.id)


class _RecordingClient(TClient):
    """A thriftpy2 client that reports calls the mock rejected as breaking the IDL (PROTOCOL_ERROR)."""

    def __init__(self, service: Any, protocol: Any, service_id: str, report: Callable[[str], None]) -> None:
        super().__init__(service, protocol)
        self._thriftbox_service = service_id
        self._thriftbox_report = report

    def _recv(self, api: str) -> Any:
        try:
            return super()._recv(api)
        except TApplicationException as exc:
            if exc.type == TApplicationException.PROTOCOL_ERROR:
                self._thriftbox_report(f"{self._thriftbox_service}: {exc.message}")
            raise


def free_base_port(span: int) -> int:
    """The first of ``span`` consecutive ports that are free right now."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = int(sock.getsockname()[1])
        if base + span < 65000 and all(port_free("127.0.0.1", base + i) for i in range(span)):
            return base
    raise PortInUse(f"no {span} consecutive free ports on 127.0.0.1", hint="set thriftbox_port")


class Thriftbox:
    """Mocks of every service of the configured IDL, for one pytest session.

    Under xdist (``share`` given) the workers share one set of process mocks: one worker serves, the others
    attach, and each one's clients connect from its own loopback address (``peer``), which scopes its stubs
    and the calls it reads. Docker mocks cannot see that address, so with Docker each worker serves its own.
    """

    def __init__(self, settings: Settings, root: Path, worker: int = 0, share: Share | None = None) -> None:
        self.settings = settings
        self.root = root
        self.worker = worker
        self.share = share
        self.peer: str | None = None  # where this worker's clients connect from, when the mocks are shared
        self.session: Session | None = None  # None on a worker that attached to another's mocks
        self._admin_url = ""
        self._admin_token = ""  # what state-changing admin requests carry
        self._ports: dict[str, int] = {}
        self._catalog: Catalog | None = None
        self.recorded: list[dict[str, Any]] = []  # contract interactions, when a contract is asked for
        self._cursor = ""
        self._entries: list[dict[str, Any]] = []  # this test's journal entries
        self._violations: list[str] = []  # this test's, not reported yet
        self._stubs: list[str] = []
        self._clients: list[Any] = []
        self._session_clients: list[Any] = []
        self._in_test = False
        self._classes: Any = None

    def __repr__(self) -> str:
        return f"<thriftbox {self.admin_url} serving {', '.join(self.ports) or 'nothing'}>"

    # -- serving -------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self.share is None:
            self._serve(0)
            return
        info, serving = self.share.join(self._serve_shared)
        if info.get("shared"):
            self.peer = source_address(self.worker)
            if not serving:
                from thriftbox.idl import load_catalog

                self._catalog = load_catalog(self.settings.idl, self.settings.include_dirs)
                self._admin_url = str(info["admin_url"])
                self._admin_token = str(info.get("admin_token") or "")
                self._ports = {str(k): int(v) for k, v in info["ports"].items()}
        elif not serving:  # Docker: calls reach a container from its network, not from this worker's address
            self._serve((self.worker + 1) * WORKER_PORT_SPAN)

    def _serve_shared(self) -> dict[str, Any]:
        self._serve(0)
        runtime = self.session.runtime if self.session else None
        shared = runtime is not None and runtime.name == "process"
        return {
            "admin_url": self._admin_url,
            "admin_token": self._admin_token,
            "ports": self._ports,
            "shared": shared,
        }

    def _serve(self, offset: int) -> None:
        s = self.settings
        for attempt in range(3):
            span = WORKER_PORT_SPAN
            base = free_base_port(span) if s.port is None else s.port + offset
            config = s.serve_config(self.root, port=base)
            try:
                session = serve(config)
            except (PortInUse, MockStartError):
                if s.port is not None or attempt == 2:
                    raise
                logger.info("ports taken while starting the mocks; trying another range")
                continue
            self.session = session
            self._admin_token = session.admin.token if session.admin is not None else ""
            self._admin_url, self._ports, self._catalog = (
                session.admin_url,
                dict(session.ports),
                session.catalog,
            )
            return

    def stop(self) -> None:
        if not self._admin_url:
            return
        try:
            self._sync()  # calls made after the last test, for the contract
            for client in self._clients + self._session_clients:
                client.close()
        finally:
            session, self.session, self._admin_url = self.session, None, ""
            if self.share is not None and self.peer is not None:  # shared mocks
                if session is not None:
                    self.share.retire(session.stop)
                else:
                    self.share.leave()
            elif session is not None:
                session.stop()

    @property
    def admin_url(self) -> str:
        return self._admin_url

    @property
    def dashboard_url(self) -> str:
        """The dashboard of the mocks (docs/dashboard.md), open while the tests run."""
        return f"{self._admin_url}/" if self._admin_url else ""

    def _admin(self) -> AdminClient:
        """The admin API of the mocks; its errors are ControlErrors (a refused stub: a StubError)."""
        return AdminClient(self.admin_url, token=self._admin_token or None)

    @property
    def ports(self) -> dict[str, int]:
        """Service id -> the port its mock listens on (on 127.0.0.1)."""
        return dict(self._ports)

    def service_id(self, name: str) -> str:
        """The id of a served service, from its id (``users.Users``) or its name where unique (``Users``)."""
        svc = self._catalog.find_service(name) if self._catalog else None
        if svc is None or svc.id not in self.ports:
            raise ConfigError(f"no served service {name!r}; served: {', '.join(self.ports) or 'none'}")
        return svc.id

    def address(self, name: str) -> tuple[str, int]:
        """``(host, port)`` of a service's mock, for code that makes its own clients."""
        return "127.0.0.1", self.ports[self.service_id(name)]

    # -- clients -------------------------------------------------------------------------------------------

    def client(
        self,
        name: str,
        *,
        service: Any = None,
        protocol: str = "binary",
        framing: str = "buffered",
        timeout: float = 10.0,
        tls: bool | None = None,
        headers: dict[str, str] | None = None,
        zlib: bool = False,
    ) -> Any:
        """A connected thriftpy2 client of a served service, closed at the end of the test.

        ``service`` is your thriftpy2 service (``users_thrift.Users``), so that answers and exceptions are
        your own classes; without it the client uses thriftbox's classes built from the served IDL. ``tls``:
        None speaks TLS when the mocks serve it (``thriftbox_tls_cert``), False plaintext on the same port.
        ``framing="header"`` speaks THeader (``protocol`` inside it), with the info ``headers`` on every call
        and, with ``zlib``, its zlib transform.
        """
        sid = self.service_id(name)
        if service is None:
            from thriftbox.client.catalog import service_module
            from thriftbox.idl.classes import Classes

            assert self._catalog is not None
            if self._classes is None:
                self._classes = Classes(self._catalog)
            service = service_module(self._classes, sid)
        host, port = self.address(sid)
        secure = self.settings.client_tls() if tls is not False else None
        if tls and secure is None:
            raise ConfigError("client(tls=True): the mocks do not serve TLS", hint="set thriftbox_tls_cert")
        opened = open_transport(
            host, port, protocol, framing, timeout, source=self.peer, tls=secure, headers=headers, zlib=zlib
        )
        client = _RecordingClient(service, opened.protocol, sid, self._violations.append)
        (self._clients if self._in_test else self._session_clients).append(client)
        return client

    # -- journal and stubs ---------------------------------------------------------------------------------

    def calls(self, service: str | None = None, method: str | None = None) -> list[RecordedCall]:
        """The calls the mocks answered during this test, oldest first; ``service`` by name or id."""
        self._sync()
        sid = self.service_id(service) if service is not None else None
        return [
            RecordedCall.of(e)
            for e in self._entries
            if (sid is None or e["service"] == sid) and (method is None or e["method"] == method)
        ]

    def stub(
        self,
        service: str,
        method: str | None = None,
        *,
        when: dict[str, Any] | None = None,
        returns: Any = _UNSET,
        throws: dict[str, Any] | None = None,
        latency_ms: Any = None,
        **rule: Any,
    ) -> Stub:
        """Answer calls of ``service.method`` as a stub file rule would, until the test ends.

        ``returns`` is the ``return:`` of a rule, ``throws`` its ``throw:``; any other rule key (``app_error``,
        ``fault``, ``sequence``, ``probability``...) may be passed as is. ``method=None`` adds a default rule.
        """
        spec = dict(rule)
        for key, value in (("when", when), ("throw", throws), ("latency_ms", latency_ms)):
            if value is not None:
                spec[key] = value
        if returns is not _UNSET:
            spec["return"] = returns
        sid = self.service_id(service)
        body: dict[str, Any] = {"service": sid, "method": method, "rule": spec}
        if self.peer is not None:
            body["peer"] = self.peer  # the rule answers this worker's clients only
        rule_id = str(self._admin().add_stub(body)["id"])  # StubError when refused
        if self._in_test:
            self._stubs.append(rule_id)
        return Stub(rule_id, sid, method, self._remove_stub)

    def _remove_stub(self, rule_id: str) -> None:
        self._admin().remove_stub(rule_id, missing_ok=True)
        if rule_id in self._stubs:
            self._stubs.remove(rule_id)

    def reset_state(self, service: str | None = None) -> None:
        """Forget what stateful mocks stored (of ``service``, or all)."""
        self._admin().reset_state(self.service_id(service) if service else None)

    def _sync(self) -> None:
        """Fetch journal entries newer than the last fetch."""
        if not self._admin_url:
            return
        # shared mocks: this worker's calls only
        page = self._admin().journal(JournalQuery(client=self.peer, since=self._cursor))
        entries = page.entries
        self._cursor = page.cursor
        self._entries += entries
        for problem in journal_violations(entries):
            if problem not in self._violations:
                self._violations.append(problem)
        if self.settings.contract is not None:
            self.recorded += [i for i in map(interaction, entries) if i is not None]

    # -- the life of one test (driven by the plugin) -------------------------------------------------------

    def begin_test(self) -> None:
        try:
            self._sync()  # calls made outside tests still count for the contract
        except ControlError:  # a mock host died (a previous test may have crashed it): restart it
            runtime = self.session.runtime if self.session else None
            for event in runtime.supervise() if runtime else []:
                logger.warning("thriftbox: %s", event)
            self._cursor = ""  # a restarted host's journal counts from 1 again
            self._sync()
        self._entries, self._violations = [], []
        self._in_test = True

    def take_violations(self) -> list[str]:
        """The calls of this test the mocks rejected for breaking the IDL, not reported before."""
        try:
            self._sync()
        except ControlError:  # the mocks are gone; end_test says so
            logger.debug("cannot read the journal", exc_info=True)
        taken = list(dict.fromkeys(self._violations))
        self._violations.clear()
        return taken

    def end_test(self) -> list[str]:
        """Close the test's clients, drop its stubs (and, unless shared, state and journal); returns violations
        not yet reported.

        Raises ThriftboxError when the mocks stopped answering during the test (the next test restarts them).
        """
        self._in_test = False
        clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        violations = self.take_violations()
        stubs, self._stubs, self._entries = self._stubs, [], []
        try:
            for rule_id in stubs:
                self._remove_stub(rule_id)
            if self.peer is None:  # shared mocks keep their journal and state: other workers use them
                self._admin().clear_journal()
                self._admin().reset_state()
        except ControlError as err:
            logs = self.root / ".thriftbox" / "logs"
            raise ThriftboxError(
                f"the mocks stopped answering during this test ({err.reason}); see the host logs in {logs}"
            ) from None
        return violations


def worker_root(basetemp: Path) -> Path:
    """The project folder of this process's mocks (its .thriftbox/ holds ports and host logs)."""
    return basetemp / f"thriftbox-{os.getpid()}"
