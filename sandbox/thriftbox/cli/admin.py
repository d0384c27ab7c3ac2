"""Commands over the admin API of the ``serve`` running in this folder: ``journal``, ``stubs``, ``reset``."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from thriftbox.cli.common import handle_errors
from thriftbox.cli.output import err, out, print_json
from thriftbox.control.client import AdminClient
from thriftbox.control.messages import JournalQuery
from thriftbox.errors import ConfigError

if TYPE_CHECKING:
    from thriftbox.project.state import ServeState


def _serving() -> ServeState:
    from thriftbox.project.state import find_serving

    _, state = find_serving(Path.cwd())
    if state is None or not state.admin_url:
        raise ConfigError(
            "no `thriftbox serve` runs in this folder or above it",
            hint="start one with: thriftbox serve idl/",
        )
    return state


def admin_url() -> str:
    return _serving().admin_url


def admin() -> AdminClient:
    """The admin API of the ``serve`` running in this folder (its errors are CallErrors), with its admin token
    from the state file."""
    state = _serving()
    return AdminClient(state.admin_url, timeout=70.0, token=state.admin_token or None)


def _line(e: dict[str, Any]) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(e["time"]))
    reply = e["reply"]
    kind = reply["kind"]
    if kind == "success":
        answer = json.dumps(reply.get("value"), ensure_ascii=False)
    elif kind == "exception":
        answer = f"throws {reply['type']} {json.dumps(reply.get('value'), ensure_ascii=False)}"
    elif kind == "app_error":
        answer = f"TApplicationException {reply['type']}: {reply['message']}"
    elif kind == "fault":
        answer = f"fault: {reply['fault']}"
    else:
        answer = "(oneway)"
    if len(answer) > 100:
        answer = answer[:97] + "..."
    rule = str(e.get("rule") or "")
    cwd = str(Path.cwd()) + "/"
    if rule.startswith(cwd):  # a stub file below this folder: show it as the user knows it
        rule = rule[len(cwd) :]
    if e["source"] == "generated" and rule == "state":
        rule = "(nothing stored)"
    source = e["source"] + (f" {rule}" if rule else "")
    args = json.dumps(e["args"], ensure_ascii=False)
    return (
        f"{stamp} {e['service']}.{e['method']}({args}) -> {answer}  [{source}, {e['latency_ms']:.1f} ms"
        f"{', ' + str(e['tls']) if e.get('tls') else ''}{_context(e.get('context'))}{_proxied(e)}]"
        + "".join(f"\n    violation: {v}" for v in e.get("violations") or ())
    )


def _proxied(e: dict[str, Any]) -> str:
    """Where a proxied call went and how long the backend took."""
    proxied = e.get("proxied")
    if not proxied:
        return ""
    return f", backend {proxied['backend']} {proxied['latency_ms']:.1f} ms" + (
        ", recorded" if e.get("recorded") else ""
    )


def _context(ctx: dict[str, Any] | None) -> str:
    """Who made the call, as its transport said (TTwitter's client and trace id, THeader's info headers)."""
    if not ctx:
        return ""
    parts = []
    if ctx.get("client_id"):
        parts.append(f"client {ctx['client_id']}")
    if ctx.get("trace_id"):
        parts.append(f"trace {ctx['trace_id']}")
    headers = ctx.get("headers")
    if isinstance(headers, dict) and headers:
        shown = " ".join(f"{k}={v}" for k, v in headers.items())
        parts.append(shown if len(shown) <= 80 else shown[:77] + "...")
    return "".join(f", {p}" for p in parts)


def resolve_target(target: str) -> dict[str, str]:
    """SERVICE or SERVICE.METHOD (SERVICE: an id like users.Users, or a name) → journal query parameters."""
    from thriftbox.idl.model import match_service  # here: `thriftbox --help` need not load the IDL parser

    services = admin().services()
    by_id = {s["service"]: s for s in services}

    def find(ref: str) -> dict[str, Any] | None:
        hits = match_service(by_id, ref)
        return by_id[hits[0]] if len(hits) == 1 else None

    svc = find(target)
    if svc is not None:
        return {"service": svc["service"]}
    ref, _, method = target.rpartition(".")
    svc = find(ref) if ref else None
    if svc is not None and method in svc["methods"]:
        return {"service": svc["service"], "method": method}
    raise ConfigError(
        f"{target!r} is neither a served service nor SERVICE.METHOD",
        hint="served: " + ", ".join(s["service"] for s in services),
    )


@click.command()
@click.argument("target", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per call (JSON Lines).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing calls as they arrive (Ctrl-C to stop).")
@click.option("--clear", is_flag=True, help="Empty the journal instead of printing it.")
@click.option(
    "--explain",
    is_flag=True,
    help="Under each call no stub rule answered: its nearest rules and what differed.",
)
@click.option(
    "--violations",
    is_flag=True,
    help="Only proxied calls whose backend answer breaks the IDL, with what is wrong.",
)
@handle_errors
def journal(
    target: str | None, as_json: bool, follow: bool, clear: bool, explain: bool, violations: bool
) -> None:
    """Show the calls the mocks answered: all, one SERVICE, or one SERVICE.METHOD.

    \b
    Each line: time, call and arguments, the answer, what answered it (stub file:line, state, generated),
    latency. Examples:
      thriftbox journal
      thriftbox journal Users.getUser --json
      thriftbox journal Users -f
      thriftbox journal Users.getUser --explain
      thriftbox journal --violations     # backend answers that break the IDL (serve --proxy)
    """
    api = admin()
    if clear:
        scope = resolve_target(target) if target else {}
        api.clear_journal(scope.get("service"), scope.get("method"))
        which = ".".join(scope[k] for k in ("service", "method") if k in scope)
        err.print(f"journal of {which} cleared" if which else "journal cleared")
        return
    query = replace(JournalQuery.from_params(resolve_target(target) if target else {}), explain=explain)
    cursor = ""
    try:
        while True:
            page = api.journal(replace(query, since=cursor, wait=30.0 if follow and cursor else 0.0))
            for entry in page.entries:
                if violations and not entry.get("violations"):
                    continue
                if as_json:
                    out.print(json.dumps(entry, ensure_ascii=False), markup=False, soft_wrap=True)
                else:
                    out.print(_line(entry), markup=False)
                    for miss in entry.get("explain") or ():
                        out.print(f"    no match: {miss['rule']}: {miss['text']}", markup=False)
            cursor = page.cursor or cursor or "0"
            if not follow:
                break
    except KeyboardInterrupt:
        pass


@click.command()
@click.argument("service", required=False)
@handle_errors
def stubs(service: str | None) -> None:
    """List the stub rules in force (from files, state and the admin API), as JSON."""
    print_json(admin().stubs(service))


@click.command()
@click.argument("service", required=False)
@handle_errors
def reset(service: str | None) -> None:
    """Forget what stateful mocks stored, and restart stub sequences (all services, or SERVICE)."""
    admin().reset_state(service)
    err.print(f"state reset: {service or 'all services'}")
