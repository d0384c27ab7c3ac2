"""``thriftbox call``: one call to a served mock (or any server), arguments and answer as JSON."""

from __future__ import annotations

import difflib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thriftpy2.thrift import TApplicationException, TException
from thriftpy2.transport import TTransportException

from thriftbox.client.catalog import ThriftClient
from thriftbox.client.transport import Tls
from thriftbox.errors import CallError, ConfigError, ThriftboxError
from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.discover import expand
from thriftbox.idl.model import Catalog, Kind, ServiceDef
from thriftbox.project.state import ServeState, find_serving
from thriftbox.values.convert import ValueConversionError, from_json, to_json
from thriftbox.wire.app import APP_ERROR_NAMES


@dataclass
class Outcome:
    body: Any
    declared_exception: bool = False


def _suggest(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=3)
    return "did you mean " + " or ".join(close) + "?" if close else None


def resolve_target(catalog: Catalog, target: str) -> tuple[ServiceDef, str]:
    """``Service.method`` or ``file.Service.method`` → (service, method name)."""
    ref, _, method = target.rpartition(".")
    if not ref or not method:
        raise ConfigError(
            f"{target!r} is not SERVICE.METHOD", hint="e.g. thriftbox call Users.getUser '{\"id\": 1}'"
        )
    svc = catalog.find_service(ref)
    if svc is None:
        names = [*catalog.services, *{s.name for s in catalog.services.values()}]
        raise ConfigError(
            f"no service {ref!r}", hint=_suggest(ref, names) or "served: " + ", ".join(catalog.services)
        )
    if method not in svc.methods:
        raise ConfigError(f"{svc.id} has no method {method!r}", hint=_suggest(method, list(svc.methods)))
    return svc, method


def call_method(
    target: str,
    args: Any,
    *,
    address: str | None,
    idl_paths: Sequence[Path],
    include_dirs: Sequence[Path],
    protocol: str,
    framing: str,
    cwd: Path,
    tls: Tls | None = None,
) -> Outcome:
    _, state = find_serving(cwd)
    if idl_paths:
        catalog = load_catalog(idl_paths, include_dirs)
    elif state is not None:
        catalog = _served_catalog(state, target)
    else:
        raise ConfigError(
            "no `thriftbox serve` runs in this folder, so there is no IDL to call with",
            hint="run it from the folder where `serve` runs, or pass --idl DIR and --address HOST:PORT",
        )
    svc, method = resolve_target(catalog, target)
    host, port = _address(address, state, svc.id)
    classes = Classes(catalog)
    m = svc.methods[method]
    if not isinstance(args, dict):
        raise ConfigError(
            "JSON_ARGS must be an object of argument name -> value",
            hint=f"e.g. '{{\"{m.args[0].name if m.args else 'x'}\": ...}}'",
        )
    kwargs: dict[str, Any] = {}
    names = [a.name for a in m.args]
    for name in args:
        if name not in names:
            raise ConfigError(
                f"{svc.id}.{method} has no argument {name!r}",
                hint=_suggest(name, names) or f"arguments: {', '.join(names) or 'none'}",
            )
    try:
        for a in m.args:
            if a.name in args:
                kwargs[a.name] = from_json(catalog, classes, a.type, args[a.name], a.name)
    except ValueConversionError as error:
        raise ConfigError(str(error), hint=getattr(error, "hint", None)) from None
    try:
        with ThriftClient(classes, svc.id, host, port, protocol=protocol, framing=framing, tls=tls) as client:
            result = client.call(method, **kwargs)
    except TApplicationException as error:
        kind = APP_ERROR_NAMES.get(error.type, str(error.type))
        raise CallError(f"{host}:{port} answered TApplicationException {kind}: {error.message}") from None
    except TTransportException as error:  # before TException, which it is
        raise CallError(
            f"cannot call {host}:{port}: {error.message}",
            hint="is `thriftbox serve` running? check with `thriftbox status`"
            + (" (and --tls-ca, --tls-cert for TLS)" if tls is not None else ""),
        ) from None
    except TException as error:
        for t in m.throws:
            if type(error) is classes.struct(str(t.type.name)):
                return Outcome(
                    {"exception": str(t.type), "field": t.name, "value": to_json(catalog, t.type, error)},
                    True,
                )
        raise CallError(f"{host}:{port}: {error}") from None
    except ssl.SSLError as error:  # TLS 1.3: a refused client certificate shows on the first read
        raise CallError(
            f"cannot call {host}:{port}: TLS: {error.reason or error}",
            hint="the server may want a client certificate: --tls-cert and --tls-key",
        ) from None
    except (TimeoutError, OSError) as error:
        raise CallError(
            f"cannot call {host}:{port}: {error}",
            hint="is `thriftbox serve` running? check with `thriftbox status`",
        ) from None
    if m.returns.kind is Kind.VOID or m.oneway:
        return Outcome(None)
    return Outcome(to_json(catalog, m.returns, result))


def _served_catalog(state: ServeState, target: str) -> Catalog:
    """The catalog of the served IDL. While a file of it is broken (serve still serves the last good
    definitions), the catalog of the file that defines ``target``'s service, if that one loads."""
    project = state.project
    try:
        return load_catalog(project.idl_dirs, project.include_dirs)
    except ThriftboxError as broken:
        for path in expand(project.idl_dirs)[1]:
            try:
                catalog = load_catalog([path], project.include_dirs)
                resolve_target(catalog, target)
            except ThriftboxError:
                continue
            return catalog
        raise broken from None


def _address(address: str | None, state: ServeState | None, service_id: str) -> tuple[str, int]:
    if address:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--address {address!r} is not HOST:PORT")
        return host, int(port)
    found = state.port_of(service_id) if state is not None else None
    if found is not None:
        return found
    raise ConfigError(f"{service_id} is not served here", hint="pass --address HOST:PORT")
