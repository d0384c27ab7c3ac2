"""The services page's "call it" form: generated arguments to start from, and one real Thrift call.

Both run in ``serve``'s process, over the catalog it serves: the arguments come from the same generator the mocks
answer with (so they look like real data), and the call goes to the mock's port like any client's, so it shows up
in the journal and meets the stub rules as any other call.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from thriftpy2.thrift import TApplicationException, TException
from thriftpy2.transport import TTransportException

from thriftbox.client.catalog import ThriftClient
from thriftbox.control.messages import HttpError
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Field, Kind, Method, TypeRef
from thriftbox.values import ValueGenerator
from thriftbox.values.convert import ValueConversionError, from_json, to_json
from thriftbox.wire.app import APP_ERROR_NAMES


def signature(m: Method) -> str:
    """``User getUser(1: i64 id) throws (1: NotFound nf)``, as the IDL declares it."""
    returns = "void" if m.returns.kind is Kind.VOID else _type(m.returns)
    text = f"{'oneway ' if m.oneway else ''}{returns} {m.name}({', '.join(map(_field, m.args))})"
    return text + (f" throws ({', '.join(map(_field, m.throws))})" if m.throws else "")


def _field(f: Field) -> str:
    return f"{f.id}: {_type(f.type)} {f.name}"


def _type(t: TypeRef) -> str:
    return t.alias or str(t)


class Caller:
    """Generated arguments and real calls for one catalog (rebuilt when the served catalog changes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._for: Catalog | None = None
        self._classes: Classes | None = None
        self._generator: ValueGenerator | None = None

    def _tools(self, catalog: Catalog) -> tuple[Classes, ValueGenerator]:
        with self._lock:
            if self._for is not catalog or self._classes is None or self._generator is None:
                self._classes = Classes(catalog)
                self._generator = ValueGenerator(catalog, self._classes)
                self._for = catalog
            return self._classes, self._generator

    def example(self, catalog: Catalog, service_id: str, method: str) -> dict[str, Any]:
        """Generated arguments of ``service_id.method``, as JSON by argument name."""
        m = _method(catalog, service_id, method)
        _, gen = self._tools(catalog)
        rng = random.Random(f"{service_id}.{method}")
        return {f.name: to_json(catalog, f.type, gen.value(f.type, rng, hint=f.name)) for f in m.args}

    def call(
        self, catalog: Catalog, service_id: str, method: str, args: Any, host: str, port: int
    ) -> dict[str, Any]:
        """Call ``service_id.method`` with ``args`` (JSON by argument name) at ``host:port``; the answer as
        ``{"kind": "success", "value": ...}``, ``{"kind": "exception", ...}`` or ``{"kind": "app_error", ...}``.
        Arguments that do not fit the IDL: HttpError 400."""
        m = _method(catalog, service_id, method)
        classes, _ = self._tools(catalog)
        if not isinstance(args, dict):
            raise HttpError(400, "args must be a JSON object of argument name -> value")
        unknown = sorted(set(args) - {f.name for f in m.args})
        if unknown:
            raise HttpError(400, f"{service_id}.{method} has no argument {unknown[0]!r}")
        try:
            kwargs = {
                f.name: from_json(catalog, classes, f.type, args[f.name], f.name)
                for f in m.args
                if f.name in args
            }
        except ValueConversionError as err:
            raise HttpError(400, str(err)) from None
        try:
            with ThriftClient(classes, service_id, host, port, timeout=10.0) as client:
                result = client.call(method, **kwargs)
        except TApplicationException as err:
            return {
                "kind": "app_error",
                "type": APP_ERROR_NAMES.get(err.type, str(err.type)),
                "message": err.message,
            }
        except TException as err:
            for t in m.throws:
                if type(err) is classes.struct(str(t.type.name)):
                    return {"kind": "exception", "field": t.name, "value": to_json(catalog, t.type, err)}
            return {"kind": "error", "message": str(err)}
        except (TimeoutError, TTransportException, OSError) as err:
            raise HttpError(502, f"cannot call {host}:{port}: {err}") from None
        value = None if m.returns.kind is Kind.VOID or m.oneway else to_json(catalog, m.returns, result)
        return {"kind": "success", "value": value}


def _method(catalog: Catalog, service_id: str, method: str) -> Method:
    svc = catalog.find_service(service_id)
    if svc is None or method not in svc.methods:
        raise HttpError(404, f"no method {service_id}.{method}")
    return svc.methods[method]
