"""The dashboard page, rendered on the server: every section's frame and the services with their methods.

What changes while the page is open (the journal, rates, hit counts, latency, the timeline) is filled in by
``static/dashboard.js``; everything here is escaped. The admin token is embedded in a ``<meta>`` tag for the
script's state-changing requests: only a page served by this API from its own address can read it.
"""

from __future__ import annotations

from html import escape
from typing import Any

from thriftbox.about import __version__
from thriftbox.dashboard.calls import signature
from thriftbox.idl.model import Catalog

OUTCOMES = ("generated", "stub", "state", "proxied", "error", "refused")
SECTIONS = (
    ("services", "Services"),
    ("journal", "Journal"),
    ("stubs", "Stubs"),
    ("latency", "Latency"),
    ("timeline", "Reloads and errors"),
)


def render_page(catalog: Catalog | None, status: list[dict[str, Any]], token: str, runtime: str) -> str:
    services = sorted(status, key=lambda s: str(s["service"]))
    nav = "".join(f'<a href="#{key}" data-tab="{key}">{label}</a>' for key, label in SECTIONS)
    options = "".join(
        f'<option value="{escape(s["service"])}">{escape(s["service"])}</option>' for s in services
    )
    outcomes = "".join(f'<option value="{o}">{o}</option>' for o in OUTCOMES)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="thriftbox-token" content="{escape(token)}">
<title>thriftbox dashboard</title>
<link rel="stylesheet" href="/dashboard/static/dashboard.css">
<link rel="icon" href="data:,">
</head>
<body>
<header><h1>thriftbox</h1><span class="muted">{escape(__version__)} · runtime {escape(runtime or "?")}</span>
<nav aria-label="Sections">{nav}</nav><span id="live" class="muted" role="status">connecting…</span></header>
<main>
<section id="services" aria-labelledby="h-services"><h2 id="h-services">Services</h2>
{_services(catalog, services)}
</section>
<section id="journal" aria-labelledby="h-journal"><h2 id="h-journal">Journal</h2>
<form class="filters" role="search" onsubmit="return false">
<label>service <select id="f-service"><option value="">all</option>{options}</select></label>
<label>method <input id="f-method" size="14"></label>
<label>outcome <select id="f-outcome"><option value="">all</option>{outcomes}</select></label>
<label>text <input id="f-text" type="search" size="20" placeholder="in args and answer"></label>
<span id="j-count" class="muted"></span>
</form>
<table class="grid" id="j-table"><colgroup><col style="width:8em"><col style="width:14%"><col style="width:12%">
<col style="width:7em"><col><col style="width:5em"><col style="width:11em"></colgroup>
<thead><tr><th>time</th><th>service</th><th>method</th><th>outcome</th>
<th>rule</th><th>ms</th><th>client</th></tr></thead><tbody id="j-rows"></tbody></table>
</section>
<section id="stubs" aria-labelledby="h-stubs"><h2 id="h-stubs">Stubs</h2>
<table class="grid"><thead><tr><th>rule</th><th>service</th><th>method</th><th>source</th><th>hits</th>
<th>definition</th><th></th></tr></thead><tbody id="s-rows"></tbody></table>
<form id="s-form" class="stack"><h3>Add a run-time rule</h3>
<label>service <select id="s-service">{options}</select></label>
<label>method <input id="s-method" required></label>
<label>rule (JSON, as in a stub file)
<textarea id="s-rule" rows="4" required>{{"when": {{}}, "return": {{}}}}</textarea></label>
<div><button type="submit" id="s-add">Add rule</button> <span id="s-msg" role="status"></span></div>
</form>
<p><button type="button" id="reset-state">Reset state</button>
<button type="button" id="clear-journal">Clear journal</button> <span id="a-msg" role="status"></span></p>
</section>
<section id="latency" aria-labelledby="h-latency"><h2 id="h-latency">Latency</h2>
<p class="muted">Measured over the last 5 minutes of calls, in ms; the chart shows them in 15-second slices
(<span class="k-p50">p50</span>, <span class="k-p90">p90</span>, <span class="k-p99">p99</span>); configured
latency and faults from the rules in force.</p>
<table class="grid"><thead><tr><th>method</th><th>calls</th><th>p50</th><th>p90</th><th>p99</th><th>chart</th>
<th>configured</th></tr></thead><tbody id="l-rows"></tbody></table>
</section>
<section id="timeline" aria-labelledby="h-timeline"><h2 id="h-timeline">Reloads and errors</h2>
<ol id="t-rows" class="timeline" reversed></ol>
</section>
</main>
<script src="/dashboard/static/dashboard.js"></script>
</body>
</html>
"""


def _services(catalog: Catalog | None, services: list[dict[str, Any]]) -> str:
    if not services:
        return '<p class="muted">No services are served.</p>'
    out = []
    for s in services:
        sid = str(s["service"])
        svc = catalog.services.get(sid) if catalog is not None else None
        methods = list(svc.methods.values()) if svc is not None else []
        rows = "".join(
            f'<details class="method" data-service="{escape(sid)}" data-method="{escape(m.name)}">'
            f"<summary><code>{escape(signature(m))}</code></summary>"
            f'<form class="call stack"><label>arguments (JSON)<textarea rows="4" name="args"></textarea></label>'
            f'<div><button type="submit">Call {escape(m.name)}</button></div>'
            f'<pre class="answer" aria-live="polite"></pre></form></details>'
            for m in methods
        )
        out.append(
            f'<article class="service" data-service="{escape(sid)}">'
            f'<h3>{escape(sid)}</h3><dl class="facts">'
            f'<dt>address</dt><dd data-stat="address">{escape(str(s["host"]))}:{int(s["port"])}</dd>'
            f"<dt>runtime</dt><dd>{escape(str(s['runtime']))}</dd>"
            f'<dt>state</dt><dd data-stat="state" class="state-{escape(str(s["state"]))}">'
            f"{escape(str(s['state']))}</dd>"
            f'<dt>calls/min</dt><dd data-stat="calls">0</dd><dt>errors/min</dt><dd data-stat="errors">0</dd>'
            f'<dt>protocols</dt><dd data-stat="protocols">-</dd>'
            f'<dt>last reload</dt><dd data-stat="reload">-</dd></dl>'
            f"{rows}</article>"
        )
    return "\n".join(out)
