// thriftbox dashboard: follows the journal over server-sent events and drives the admin API (docs/dashboard.md).
"use strict";
(() => {
  const TOKEN = document.querySelector('meta[name="thriftbox-token"]').content;
  const MAX_ROWS = 500; // rows shown; the full window of entries is kept for filters and statistics
  const KEEP = 20000; // entries kept in memory
  const WINDOW_S = 300; // latency and rate window
  const $ = (sel, root = document) => root.querySelector(sel);
  const el = (tag, attrs = {}, text = "") => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  };
  let entries = []; // oldest first
  let rules = [];
  let cursor = "";
  let dirty = true; // draw once even before the first call
  const timeline = [];

  // -- admin API ----------------------------------------------------------------------------------------
  async function api(method, path, body) {
    const init = { method, headers: { "X-Thriftbox-Token": TOKEN } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(path, init);
    const data = await resp.json().catch(() => null);
    if (!resp.ok) throw new Error((data && data.error) || `${resp.status} ${resp.statusText}`);
    return data;
  }

  // -- sections -----------------------------------------------------------------------------------------
  function showTab() {
    const key = (location.hash || "#services").slice(1);
    for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== key;
    for (const a of document.querySelectorAll("nav a")) {
      if (a.dataset.tab === key) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }
  window.addEventListener("hashchange", showTab);

  // -- journal ------------------------------------------------------------------------------------------
  const outcome = (e) => {
    const kind = e.reply && e.reply.kind;
    if (kind === "app_error" || kind === "fault") return e.source === "refused" ? "refused" : "error";
    return e.source || "generated";
  };
  const clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false }) +
    "." + String(Math.floor((t % 1) * 1000)).padStart(3, "0");
  function matches(e) {
    const service = $("#f-service").value, method = $("#f-method").value.trim();
    const want = $("#f-outcome").value, text = $("#f-text").value.trim().toLowerCase();
    if (service && e.service !== service) return false;
    if (method && !e.method.toLowerCase().includes(method.toLowerCase())) return false;
    if (want && outcome(e) !== want) return false;
    if (text && !JSON.stringify([e.args, e.reply, e.rule, e.client]).toLowerCase().includes(text)) return false;
    return true;
  }
  function ruleLink(id) { // to the rule's row in the stubs section
    const a = el("a", { href: "#stubs", class: "rule-link" }, id);
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      location.hash = "#stubs";
      showTab();
      const tr = [...document.querySelectorAll("#s-rows tr")].find((r) => r.dataset.rule === id);
      if (tr) { tr.scrollIntoView({ block: "center" }); tr.focus(); }
    });
    return a;
  }
  function detail(e) {
    const td = el("td", { colspan: "7" });
    const facts = el("p");
    facts.textContent = `latency ${e.latency_ms} ms · client ${e.client} · protocol ${e.protocol}/${e.framing}` +
      ` · seqid ${e.seqid} · answered by `;
    const byRule = e.rule && e.source !== "generated";
    if (byRule) facts.append("rule ", ruleLink(e.rule));
    else facts.append(e.rule === "state" ? "generated (nothing stored)" : e.source);
    td.append(facts, el("h4", {}, "arguments"), el("pre", {}, JSON.stringify(e.args, null, 2)),
      el("h4", {}, "answer"), el("pre", {}, JSON.stringify(e.reply, null, 2)));
    if (e.context) td.append(el("h4", {}, "transport"), el("pre", {}, JSON.stringify(e.context, null, 2)));
    if (e.explain) {
      td.append(el("h4", {}, "why no rule matched"));
      const list = el("ul", { class: "explain" });
      if (!e.explain.length) list.append(el("li", {}, "no rule of this method could be tried"));
      for (const miss of e.explain) {
        const li = el("li");
        li.append(ruleLink(miss.rule), document.createTextNode(" " + miss.text +
          (miss.of ? ` (${miss.matched} of ${miss.of} fields matched)` : "")));
        list.append(li);
      }
      td.append(list);
    }
    const tr = el("tr", { class: "detail" });
    tr.append(td);
    return tr;
  }
  function row(e) {
    const tr = el("tr", { class: "entry", tabindex: "0", "aria-expanded": "false" });
    tr.dataset.id = `${e.service}#${e.id}`;
    const o = outcome(e);
    for (const [text, cls] of [[clock(e.time)], [e.service], [e.method], [o, "o-" + o],
      [e.rule || (e.explain ? "no match" : ""), "rule-cell"], [String(e.latency_ms)], [e.client || ""]]) {
      tr.append(el("td", cls ? { class: cls } : {}, text));
    }
    byRow.set(tr, e);
    return tr;
  }
  const byRow = new WeakMap(); // row -> its entry: one listener for the whole table, not two per row
  function toggle(tr) {
    const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("detail");
    if (open) tr.nextElementSibling.remove();
    else tr.after(detail(byRow.get(tr)));
    tr.setAttribute("aria-expanded", String(!open));
  }
  $("#j-rows").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr.entry");
    if (tr) toggle(tr);
  });
  $("#j-rows").addEventListener("keydown", (ev) => {
    const tr = ev.target.closest("tr.entry");
    if (tr && ev.target === tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); toggle(tr); }
  });
  let received = 0; // entries ever received
  let rendered = 0; // of those, how many the table has seen
  let rebuild = true; // filters changed or the journal was cleared: draw the table anew
  function renderJournal() {
    const body = $("#j-rows");
    const fresh = rebuild ? entries.length : Math.min(entries.length, received - rendered);
    const frag = document.createDocumentFragment();
    let added = 0;
    for (let i = entries.length - 1; i >= entries.length - fresh && added < MAX_ROWS; i--) {
      if (matches(entries[i])) { frag.append(row(entries[i])); added++; }
    }
    if (rebuild) body.replaceChildren(frag);
    else body.prepend(frag);
    rebuild = false;
    rendered = received;
    let shown = body.querySelectorAll("tr.entry").length;
    while (shown > MAX_ROWS) { // the oldest rows go, with their open details
      const last = body.lastElementChild;
      if (last.classList.contains("entry")) shown--;
      last.remove();
    }
    $("#j-count").textContent = `${shown} shown of ${entries.length}`;
  }

  // -- statistics ---------------------------------------------------------------------------------------
  const pct = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0;
  function renderStats() {
    const now = Date.now() / 1000;
    const perService = new Map(), perMethod = new Map(), hits = new Map();
    for (const e of entries) {
      if (e.rule && e.source !== "generated") hits.set(e.rule, (hits.get(e.rule) || 0) + 1); // answered by it
      if (now - e.time > WINDOW_S) continue;
      const s = perService.get(e.service) || { calls: 0, errors: 0, protocols: new Set() };
      if (now - e.time <= 60) { s.calls++; if (outcome(e) === "error") s.errors++; }
      s.protocols.add(`${e.protocol}/${e.framing}`);
      perService.set(e.service, s);
      const key = `${e.service}.${e.method}`;
      if (!perMethod.has(key)) perMethod.set(key, []);
      perMethod.get(key).push(e);
    }
    for (const article of document.querySelectorAll("article.service")) {
      const s = perService.get(article.dataset.service) || { calls: 0, errors: 0, protocols: new Set() };
      $('[data-stat="calls"]', article).textContent = s.calls;
      $('[data-stat="errors"]', article).textContent = s.errors;
      $('[data-stat="protocols"]', article).textContent = [...s.protocols].join(", ") || "-";
      const name = article.dataset.service;
      const last = [...timeline].reverse().find((t) => t.text.includes(name) || t.text.includes(name.split(".").pop()));
      $('[data-stat="reload"]', article).textContent = last ? `${clock(last.time)} ${last.kind}` : "-";
    }
    renderStubs(hits);
    renderLatency(perMethod, now);
  }
  function chart(calls, now) {
    const buckets = 20, width = 160, height = 36, span = WINDOW_S / buckets;
    const series = { p50: [], p90: [], p99: [] };
    const bins = Array.from({ length: buckets }, () => []);
    for (const e of calls) { // one pass: each call into its slice of the window
      const b = Math.floor((e.time - (now - WINDOW_S)) / span);
      if (b >= 0 && b < buckets) bins[b].push(e.latency_ms);
    }
    for (const ms of bins) {
      ms.sort((x, y) => x - y);
      for (const [k, p] of [["p50", .5], ["p90", .9], ["p99", .99]]) series[k].push(ms.length ? pct(ms, p) : null);
    }
    const top = Math.max(1, ...series.p99.filter((v) => v !== null));
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "chart");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "p50, p90 and p99 latency over the last 5 minutes");
    const NS = "http://www.w3.org/2000/svg";
    const x = (i) => (2 + i * (width - 4) / (buckets - 1)).toFixed(1);
    const y = (v) => (height - 2 - (v / top) * (height - 4)).toFixed(1);
    const title = document.createElementNS(NS, "title");
    title.textContent = `latest: p50 ${series.p50.filter((v) => v !== null).pop() ?? "-"} ms, p99 ` +
      `${series.p99.filter((v) => v !== null).pop() ?? "-"} ms; top of the chart ${top.toFixed(1)} ms`;
    svg.append(title);
    for (const k of ["p50", "p90", "p99"]) {
      const line = document.createElementNS(NS, "polyline");
      line.setAttribute("class", k);
      line.setAttribute("points", series[k].map((v, i) => v === null ? null : `${x(i)},${y(v)}`).filter(Boolean).join(" "));
      svg.append(line);
      series[k].forEach((v, i) => { // a dot per slice with calls: one slice alone draws no line
        if (v === null) return;
        const dot = document.createElementNS(NS, "circle");
        dot.setAttribute("class", k);
        dot.setAttribute("cx", x(i));
        dot.setAttribute("cy", y(v));
        dot.setAttribute("r", "1.8");
        svg.append(dot);
      });
    }
    return svg;
  }
  function configured(service, method) {
    const parts = [];
    for (const r of rules) {
      if (r.service !== service || (r.method !== method && r.method !== null) || !r.rule) continue;
      const found = [];
      const walk = (spec) => {
        if (Array.isArray(spec)) { spec.forEach(walk); return; }
        if (!spec || typeof spec !== "object") return;
        for (const key of ["latency_ms", "fault"]) if (key in spec) found.push(`${key} ${JSON.stringify(spec[key])}`);
        if (spec.sequence) walk(spec.sequence);
      };
      walk(r.rule);
      if (found.length) parts.push(`${r.id}: ${found.join(", ")}`);
    }
    return parts.join("; ") || "-";
  }
  function renderLatency(perMethod, now) {
    const frag = document.createDocumentFragment();
    for (const [key, calls] of [...perMethod.entries()].sort()) {
      const ms = calls.map((e) => e.latency_ms).sort((x, y) => x - y);
      const tr = el("tr");
      const dot = key.lastIndexOf(".");
      for (const text of [key, String(calls.length), pct(ms, .5).toFixed(2), pct(ms, .9).toFixed(2), pct(ms, .99).toFixed(2)]) {
        tr.append(el("td", {}, text));
      }
      const td = el("td");
      td.append(chart(calls, now));
      tr.append(td, el("td", {}, configured(key.slice(0, dot), key.slice(dot + 1))));
      frag.append(tr);
    }
    $("#l-rows").replaceChildren(frag);
  }

  // -- stubs --------------------------------------------------------------------------------------------
  async function loadRules() {
    try { rules = await api("GET", "/stubs"); } catch (err) { $("#a-msg").textContent = err.message; }
    dirty = true;
  }
  let stubsDrawn = "";
  function renderStubs(hits) {
    const drawn = JSON.stringify(rules);
    if (drawn === stubsDrawn) { // the same rules: only the counts change, the buttons (and focus) stay
      for (const tr of document.querySelectorAll("#s-rows tr")) $("td.hits", tr).textContent = hits.get(tr.dataset.rule) || 0;
      return;
    }
    stubsDrawn = drawn;
    const frag = document.createDocumentFragment();
    for (const r of rules) {
      const tr = el("tr", { tabindex: "-1" });
      tr.dataset.rule = r.id;
      for (const text of [r.id, r.service, r.method || "(default)", r.source]) tr.append(el("td", {}, text));
      tr.append(el("td", { class: "hits" }, String(hits.get(r.id) || 0)));
      const spec = el("td", { class: "rule-cell" });
      spec.append(el("code", {}, r.rule ? JSON.stringify(r.rule) : ""));
      const actions = el("td");
      if (r.source === "api") {
        const edit = el("button", { type: "button" }, "Edit");
        edit.addEventListener("click", () => {
          $("#s-service").value = r.service; $("#s-method").value = r.method || "";
          $("#s-rule").value = JSON.stringify(r.rule, null, 2); $("#s-add").dataset.replaces = r.id;
          $("#s-add").textContent = `Replace ${r.id}`; $("#s-method").focus();
        });
        const remove = el("button", { type: "button" }, "Remove");
        remove.addEventListener("click", async () => {
          try { await api("DELETE", `/stubs/${encodeURIComponent(r.id)}`); } catch (err) { $("#a-msg").textContent = err.message; }
          await loadRules();
        });
        actions.append(edit, document.createTextNode(" "), remove);
      }
      tr.append(spec, actions);
      frag.append(tr);
    }
    $("#s-rows").replaceChildren(frag);
  }
  $("#s-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const msg = $("#s-msg");
    try {
      const rule = JSON.parse($("#s-rule").value);
      const replaces = $("#s-add").dataset.replaces;
      const added = await api("POST", "/stubs", { service: $("#s-service").value, method: $("#s-method").value.trim(), rule });
      if (replaces) await api("DELETE", `/stubs/${encodeURIComponent(replaces)}`);
      delete $("#s-add").dataset.replaces;
      $("#s-add").textContent = "Add rule";
      msg.className = ""; msg.textContent = `added ${added.id}`;
    } catch (err) { msg.className = "error"; msg.textContent = err.message; }
    await loadRules();
  });
  $("#reset-state").addEventListener("click", async () => {
    try { await api("POST", "/state/reset", {}); $("#a-msg").textContent = "state reset"; } catch (err) { $("#a-msg").textContent = err.message; }
  });
  $("#clear-journal").addEventListener("click", async () => {
    try { await api("DELETE", "/journal"); entries = []; rebuild = dirty = true; $("#a-msg").textContent = "journal cleared"; } catch (err) { $("#a-msg").textContent = err.message; }
  });

  // -- call it ------------------------------------------------------------------------------------------
  for (const details of document.querySelectorAll("details.method")) {
    const form = $("form", details), area = $("textarea", details), out = $("pre", details);
    const { service, method } = details.dataset;
    details.addEventListener("toggle", async () => {
      if (!details.open || area.value) return;
      try {
        const q = new URLSearchParams({ service, method });
        area.value = JSON.stringify(await api("GET", `/dashboard/example?${q}`), null, 2);
      } catch (err) { out.textContent = err.message; }
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      out.classList.remove("error");
      try {
        const answer = await api("POST", "/dashboard/call", { service, method, args: JSON.parse(area.value || "{}") });
        out.textContent = JSON.stringify(answer, null, 2);
      } catch (err) { out.classList.add("error"); out.textContent = err.message; }
    });
  }

  // -- live ---------------------------------------------------------------------------------------------
  function renderTimeline(events) {
    for (const t of events) {
      timeline.push(t);
      const li = el("li", { class: t.kind });
      li.append(el("time", {}, clock(t.time)), document.createTextNode(" "), el("span", {}, t.text));
      $("#t-rows").prepend(li);
    }
    if (events.some((t) => t.kind === "reload")) loadRules();
    dirty = true;
  }
  function connect() {
    const source = new EventSource(`/dashboard/events?since=${encodeURIComponent(cursor)}`);
    source.addEventListener("open", () => { $("#live").textContent = "live"; });
    source.addEventListener("journal", (ev) => {
      $("#live").textContent = "live";
      const batch = JSON.parse(ev.data);
      entries.push(...batch);
      received += batch.length;
      if (entries.length > KEEP) entries = entries.slice(entries.length - KEEP);
      if (ev.lastEventId) cursor = ev.lastEventId;
      dirty = true;
    });
    source.addEventListener("timeline", (ev) => renderTimeline([JSON.parse(ev.data)]));
    source.addEventListener("status", (ev) => {
      for (const mock of JSON.parse(ev.data)) {
        const article = [...document.querySelectorAll("article.service")].find((a) => a.dataset.service === mock.service);
        if (!article) continue;
        const dd = $('[data-stat="state"]', article);
        dd.textContent = mock.state;
        dd.className = `state-${mock.state}`;
        $('[data-stat="address"]', article).textContent = `${mock.host}:${mock.port}`;
      }
    });
    source.addEventListener("problem", (ev) => { $("#live").textContent = JSON.parse(ev.data).error; });
    source.addEventListener("error", () => {
      $("#live").textContent = "reconnecting…";
      source.close();
      setTimeout(connect, 1000);
    });
  }
  let drawn = 0;
  const perf = (window.thriftboxDashboard = { renders: 0, maxRenderMs: 0 }); // read by the browser tests
  function frame(now) {
    if (dirty && now - drawn >= 200) {
      dirty = false;
      drawn = now;
      renderJournal();
      renderStats();
      perf.renders++;
      perf.maxRenderMs = Math.max(perf.maxRenderMs, performance.now() - now);
    }
    requestAnimationFrame(frame);
  }
  for (const id of ["#f-service", "#f-method", "#f-outcome", "#f-text"]) $(id).addEventListener("input", () => { rebuild = dirty = true; });
  setInterval(() => { dirty = true; }, 5000); // rates age even without calls
  showTab();
  loadRules();
  connect();
  requestAnimationFrame(frame);
})();
