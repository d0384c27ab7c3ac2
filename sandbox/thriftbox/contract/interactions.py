"""Contract files: recorded interactions a provider must honour.

A contract file is a JSON list; each interaction names a service, a method, its arguments (JSON form, as
``thriftbox call`` takes them) and the expected outcome::

    [
      {"service": "users.UserService", "method": "getUser", "args": {"id": 42},
       "expect": {"result": {"id": 42, "name": "Ada"}}},
      {"service": "users.UserService", "method": "getUser", "args": {"id": -1},
       "expect": {"exception": "NotFound", "value": {"message": "no user -1"}}},
      {"service": "users.UserService", "method": "getUser", "args": {"id": 0},
       "expect": {"exception": "TApplicationException", "type": "INTERNAL_ERROR"}}
    ]

``service`` may be left out (the interaction then applies to the service being verified); ``exception`` names
the exception type or its throws field. By default the *kind* of outcome must match (a result, that declared
exception, or an application error, of ``type`` when given) and the answer must conform to the IDL, since
values recorded against a mock are generated. With ``"exact": true`` in ``expect`` the value must equal the
recorded one too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from thriftbox.contract.cases import Case, Expectation
from thriftbox.contract.check import Problem
from thriftbox.errors import ConfigError, Location
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Kind, Method, ServiceDef
from thriftbox.wire.app import APP_ERROR_NAMES

APPLICATION = "TApplicationException"


def load_interactions(classes: Classes, service: ServiceDef, path: Path) -> list[Case]:
    """The interactions of ``path`` that concern ``service``, as cases ready to send.

    An interaction without ``service`` concerns every service; a file with nothing for ``service`` is an
    error rather than a run that checks nothing.
    """
    from thriftbox.values.convert import ValueConversionError, from_json  # Faker only when a file is used

    catalog = classes.catalog
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read contract file: {exc}", location=Location(path)) from None
    if not isinstance(items, list):
        raise ConfigError("a contract file holds a JSON list of interactions", location=Location(path))
    cases = []
    named: set[str] = set()
    for i, item in enumerate(items, 1):
        where = f"interaction #{i}"
        if not isinstance(item, dict) or not {"method", "args", "expect"} <= item.keys():
            raise ConfigError(f"{where} needs method, args and expect", location=Location(path))
        if not isinstance(item["args"], dict):
            raise ConfigError(f"{where}: args is an object of argument names", location=Location(path))
        named.add(str(item.get("service", service.id)))
        svc = catalog.find_service(str(item.get("service", service.id)))
        if svc is None or svc.id != service.id:
            continue
        method = service.methods.get(item["method"])
        if method is None:
            raise ConfigError(
                f"{where}: {service.name} has no method {item['method']!r}",
                hint="the contract was recorded against another IDL version; re-record it",
                location=Location(path),
            )
        try:
            args = {
                a.name: from_json(catalog, classes, a.type, item["args"][a.name], f"{method.name}.{a.name}")
                for a in method.args
                if item["args"].get(a.name) is not None
            }
        except ValueConversionError as exc:
            raise ConfigError(f"{where}: {exc}", location=Location(path)) from None
        expect = _expectation(method, item["expect"], f"{path.name} {where}", path)
        cases.append(Case(method.name, f"{path.name} #{i}", args, expect))
    if not cases:
        raise ConfigError(
            f"no interaction in the contract file is for {service.id}",
            hint=f"it has interactions for: {', '.join(sorted(named)) or 'nothing'}",
            location=Location(path),
        )
    return cases


def _expectation(method: Method, expect: Any, where: str, path: Path) -> Expectation:
    exact = bool(isinstance(expect, dict) and expect.get("exact", False))
    if isinstance(expect, dict) and "result" in expect:
        return Expectation("result", expect["result"], exact)
    if isinstance(expect, dict) and "exception" in expect:
        name = str(expect["exception"])
        if name == APPLICATION:
            return Expectation("application", expect.get("type"), exact)
        for f in method.throws:
            if name in (f.name, str(f.type)):
                return Expectation(f.name, expect.get("value"), exact)
        declared = ", ".join([str(f.type) for f in method.throws] + [APPLICATION])
        raise ConfigError(
            f"{where}: {method.name} does not throw {name} (it may throw {declared})", location=Location(path)
        )
    raise ConfigError(f'{where}: expect holds "result" or "exception"', location=Location(path))


def compare(classes: Classes, method: Method, expect: Expectation, outcome: str, value: Any) -> list[Problem]:
    """How an actual outcome (``result``, a throws field name, ``application``) misses the expectation."""
    if outcome != expect.outcome:
        return [
            Problem(
                method.name, f"expected {_describe(method, expect.outcome)}, got {_describe(method, outcome)}"
            )
        ]
    if outcome == "application":
        wanted, got = expect.value, APP_ERROR_NAMES.get(value.type, str(value.type))
        if wanted is not None and str(wanted) not in (got, str(value.type)):
            return [
                Problem(method.name, f"expected a TApplicationException {wanted}, got {got}: {value.message}")
            ]
        return []
    if not expect.exact:
        return []
    from thriftbox.values.convert import to_json

    t = method.returns if outcome == "result" else next(f.type for f in method.throws if f.name == outcome)
    actual = None if t.kind is Kind.VOID else to_json(classes.catalog, t, value)
    path = f"{method.name}.{'success' if outcome == 'result' else outcome}"
    return [Problem(p, m) for p, m in _diff(expect.value, actual, path)]


def _describe(method: Method, outcome: str) -> str:
    if outcome == "result":
        return "a result"
    if outcome == "application":
        return "a TApplicationException"
    t = next((f.type for f in method.throws if f.name == outcome), None)
    return f"exception {t} ({outcome})"


def _diff(expected: Any, actual: Any, path: str) -> list[tuple[str, str]]:
    """Differences between two JSON values, one per leaf path."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(expected.keys() | actual.keys()):
            out += _diff(expected.get(key), actual.get(key), f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in _diff(e, a, f"{path}[{i}]")
        ]
    if expected != actual:
        return [(path, f"expected {json.dumps(expected)}, got {json.dumps(actual)}")]
    return []


# -- writing: the interactions a consumer's tests relied on (the pytest plugin) --------------------------


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
    """Write a contract file of ``items`` (merged: one per call and outcome); returns how many it holds."""
    merged = merge_interactions(items)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    return len(merged)
