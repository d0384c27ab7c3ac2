"""Provider verification: drive a real server with real calls and check every answer against the IDL.

Every method gets its cases (:mod:`thriftbox.contract.cases`), or the interactions of a contract file
(:mod:`thriftbox.contract.interactions`). A reply that does not conform, a TApplicationException that was
not expected, a wrong sequence id, a dropped connection or a silent provider is a violation; verification
reconnects and carries on with the next case.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from thriftpy2.thrift import TMessageType
from thriftpy2.transport import TTransportException

from thriftbox.client.transport import Tls
from thriftbox.contract.cases import Case, ValueSource, default_source, method_cases
from thriftbox.contract.check import Problem, check_result
from thriftbox.contract.client import CONNECTION_ERRORS, Connection, is_timeout
from thriftbox.contract.decode import Decoder
from thriftbox.contract.interactions import compare, load_interactions
from thriftbox.contract.reader import MalformedReply
from thriftbox.contract.report import VerifyReport, Violation
from thriftbox.errors import CallError, ConfigError
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Method, ServiceDef
from thriftbox.wire.app import APP_ERROR_NAMES

logger = logging.getLogger(__name__)


def verify(
    catalog: Catalog,
    classes: Classes,
    service_id: str,
    target: tuple[str, int],
    *,
    protocol: str = "binary",
    framing: str = "buffered",
    cases_per_method: int = 3,
    contract: Path | None = None,
    timeout: float = 5.0,
    seed: int = 0,
    edges: bool = True,
    methods: Collection[str] | None = None,
    source: ValueSource | None = None,
    tls: Tls | None = None,
) -> VerifyReport:
    """Verify the provider at ``target`` against service ``service_id`` of ``catalog``.

    Without ``contract``, each method gets the edge cases (unless ``edges`` is false) and
    ``cases_per_method`` generated ones. ``methods`` limits the run to some methods. Raises
    :class:`CallError` when the provider cannot be reached at all. ``tls``: speak TLS to it.
    """
    svc = catalog.find_service(service_id)
    if svc is None:
        known = ", ".join(sorted(catalog.services)) or "none"
        raise ConfigError(f"no service {service_id!r} in the IDL", hint=f"services: {known}")
    unknown = sorted(set(methods or ()) - set(svc.methods))
    if unknown:
        raise ConfigError(
            f"{svc.name} has no method {', '.join(unknown)}", hint=f"methods: {', '.join(svc.methods)}"
        )
    if contract is not None:
        cases = [
            c for c in load_interactions(classes, svc, contract) if methods is None or c.method in methods
        ]
    else:
        cases = []
        if source is None and cases_per_method > 0:
            source = default_source(classes, seed)
        for m in svc.methods.values():
            if methods is not None and m.name not in methods:
                continue
            cases += method_cases(
                classes, svc.id, m, generated=cases_per_method, seed=seed, edges=edges, source=source
            )
    run = _Run(svc, classes, Connection(target, protocol, framing, timeout, tls))
    return run.all(cases)


class _Run:
    """One verification run over one connection (reopened after every broken call)."""

    def __init__(self, svc: ServiceDef, classes: Classes, conn: Connection) -> None:
        self.svc = svc
        self.classes = classes
        self.conn = conn
        self.decoder = Decoder(classes)
        self.report = VerifyReport(svc.id, conn.target)

    def all(self, cases: list[Case]) -> VerifyReport:
        self.report.methods = {c.method: 0 for c in cases}  # in IDL order; 0 until run
        self.conn.open()
        try:
            for case in cases:
                method = self.svc.methods[case.method]
                started = time.monotonic()
                alive = self.one(method, case)
                report = self.report
                report.cases_run += 1
                report.methods[method.name] += 1
                report.seconds[method.name] = (
                    report.seconds.get(method.name, 0.0) + time.monotonic() - started
                )
                if not alive:
                    break
        finally:
            self.conn.close()
        return self.report

    def one(self, method: Method, case: Case) -> bool:
        """Run one case; False when the provider can no longer be reached."""
        args = self.classes.args(self.svc.id, method.name)(**case.args)
        try:
            seqid = self.conn.send(method.name, args, oneway=method.oneway)
            if method.oneway:
                return True
            reply = self.conn.receive()
        except MalformedReply as exc:
            return self._broken(method, case, f"malformed reply: {exc}")
        except CONNECTION_ERRORS as exc:
            if is_timeout(exc):
                return self._broken(method, case, f"no reply within {self.conn.timeout:g} s")
            return self._broken(method, case, _dropped(exc))
        problems: list[Problem] = []
        if reply.name != method.name:
            problems.append(Problem(method.name, f"reply names method {reply.name!r}"))
        if reply.seqid != seqid:
            problems.append(
                Problem(method.name, f"reply carries sequence id {reply.seqid}, the call had {seqid}")
            )
        if reply.mtype == TMessageType.EXCEPTION:
            problems += self._application_error(method, case, reply.body)
        elif reply.mtype == TMessageType.REPLY:
            problems += self._result(method, case, reply.body)
        else:
            problems.append(
                Problem(method.name, f"reply has message type {reply.mtype}, not REPLY or EXCEPTION")
            )
        self._record(method, case, problems)
        return True

    def _application_error(self, method: Method, case: Case, body: Any) -> list[Problem]:
        exc = self.decoder.application_exception(body)
        kind = APP_ERROR_NAMES.get(exc.type, str(exc.type))
        if case.expect is not None:
            return compare(self.classes, method, case.expect, "application", exc)
        return [Problem(method.name, f"TApplicationException {kind}: {exc.message}")]

    def _result(self, method: Method, case: Case, body: Any) -> list[Problem]:
        decoded = self.decoder.result(self.svc.id, method, body)
        self.report.notes += [Violation(method.name, n.path, n.message, case.label) for n in decoded.notes]
        dropped = {p.path for p in decoded.problems}
        if any(p.path.startswith(f"{method.name}.<field") for p in decoded.problems):
            dropped.add(f"{method.name}.success")  # an undeclared outcome explains the missing result
        problems = decoded.problems + [
            p for p in check_result(self.classes.catalog, method, decoded.value) if p.path not in dropped
        ]
        if case.expect is not None and not problems:
            outcome = next(
                (f.name for f in method.throws if getattr(decoded.value, f.name, None) is not None), None
            )
            value = getattr(decoded.value, outcome or "success", None)
            problems += compare(self.classes, method, case.expect, outcome or "result", value)
        return problems

    def _broken(self, method: Method, case: Case, message: str) -> bool:
        self._record(method, case, [Problem(method.name, message)])
        try:
            self.conn.reopen()
        except CallError as exc:
            self._record(
                method, case, [Problem(method.name, f"provider stopped accepting connections: {exc}")]
            )
            return False
        return True

    def _record(self, method: Method, case: Case, problems: list[Problem]) -> None:
        for p in problems:
            logger.debug("%s [%s]: %s", p.path, case.label, p.message)
            self.report.violations.append(Violation(method.name, p.path, p.message, case.label))


def _dropped(exc: BaseException) -> str:
    if isinstance(exc, TTransportException) and exc.type == TTransportException.END_OF_FILE:
        return "the provider closed the connection without replying"
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"connection dropped ({message})"
