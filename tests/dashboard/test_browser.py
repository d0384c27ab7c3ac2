"""Issue 14: the dashboard in a real browser (headless Chromium), against a real `serve` of a held-out IDL.

Calls come from Apache's own Python library (code from Apache's compiler). Each test also checks that the page
logged no error to the browser console. With THRIFTBOX_UPDATE_SCREENSHOTS=1 the tests save a screenshot of each
section to docs/dashboard/ (docs/dashboard.md embeds them).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard.browser import require_browser, start_browser
from tests.dashboard.support import IDL, PARIS_RULE, STOCK_RULE, STUBS, request
from tests.serve_support import REPO, Served, serve
from tests.wire.apache import generate

SCREENSHOTS = REPO / "docs" / "dashboard"
UPDATE = os.environ.get("THRIFTBOX_UPDATE_SCREENSHOTS") == "1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_browser()
    root = tmp_path_factory.mktemp("dash-browser")
    (root / "idl").mkdir()
    (root / "idl" / "inventory.thrift").write_text(IDL)
    (root / "mocks").mkdir()
    (root / "mocks" / "warehouse.yaml").write_text(STUBS)
    with serve(root, ["idl"], "--mocks", "mocks", "--watch") as s:
        yield s


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("dash-gen"), IDL, "tbdash_gen", ("Warehouse", "ttypes"))


@pytest.fixture(scope="module")
def browser(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """The dashboard, freshly loaded; after the test, the console must hold no error."""
    browser.get(served.state()["admin_url"] + "/")
    wait_for(browser, lambda d: d.find_element("id", "live").text == "live")
    yield browser
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def wait_for(driver: Any, condition: Any, timeout: float = 5.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(condition)


def warehouse(gen: Any, served: Served) -> Any:
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport

    sock = TSocket.TSocket("127.0.0.1", served.port("inventory.Warehouse"))
    sock.setTimeout(5000)
    trans = TTransport.TBufferedTransport(sock)
    trans.open()
    client = gen.Warehouse.Client(TBinaryProtocol.TBinaryProtocol(trans))
    client.close = trans.close
    return client


def show(driver: Any, section: str) -> None:
    driver.find_element("css selector", f'nav a[data-tab="{section}"]').click()
    wait_for(driver, lambda d: d.find_element("id", section).is_displayed())


def screenshot(driver: Any, name: str) -> None:
    if UPDATE:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def rows_of(driver: Any, method: str) -> list[Any]:
    rows = driver.find_elements("css selector", "#j-rows tr.entry")
    return [r for r in rows if r.find_elements("css selector", "td")[2].text == method]


def first_rule(driver: Any, method: str) -> str | None:
    """The rule cell of the newest row of ``method`` (None before there is one)."""
    rows = rows_of(driver, method)
    return rows[0].find_elements("css selector", "td")[4].text if rows else None


def test_the_services_page_lists_every_service_and_loads_fast(page: Any, served: Served) -> None:
    timing = """const n = performance.getEntriesByType('navigation')[0];
        return {start: n.requestStart, html: n.responseEnd, dom: n.domContentLoadedEventEnd, load: n.loadEventEnd};"""
    for when in ("first", "again"):  # a fresh browser's first page, then the same page loaded again
        t = page.execute_script(timing)
        print(
            f"\ndashboard {when} load: request sent {t['start']:.0f} ms, page received {t['html']:.0f} ms, "
            f"DOMContentLoaded {t['dom']:.0f} ms, load {t['load']:.0f} ms"
        )
        page.refresh()
        wait_for(page, lambda d: d.find_element("id", "live").text == "live")
    articles = page.find_elements("css selector", "article.service")
    shown = {a.get_attribute("data-service"): a.text for a in articles}
    assert set(shown) == {"inventory.Warehouse", "inventory.Shipping", "inventory.Billing"}
    for sid, text in shown.items():
        assert f"127.0.0.1:{served.port(sid)}" in text
        assert "ready" in text
    picked = page.find_element("css selector", 'details[data-method="pick"] summary').text
    assert picked == "Parcel pick(1: Sku sku, 2: i32 quantity) throws (1: OutOfStock outOfStock)"
    screenshot(page, "services")


def test_the_call_form_starts_from_generated_arguments_and_shows_the_answer(page: Any) -> None:
    details = page.find_element(
        "css selector", 'details[data-service="inventory.Warehouse"][data-method="stock"]'
    )
    details.find_element("css selector", "summary").click()
    area = details.find_element("css selector", "textarea")
    wait_for(page, lambda _: '"sku"' in area.get_attribute("value"))
    area.clear()
    area.send_keys('{"sku": "A-1", "site": "berlin"}')
    details.find_element("css selector", "button").click()
    answer = details.find_element("css selector", "pre.answer")
    wait_for(page, lambda _: "success" in answer.text)
    assert '"value": 7' in answer.text


def test_an_apache_call_appears_in_the_live_journal_with_its_rule(
    page: Any, gen: Any, served: Served
) -> None:
    show(page, "journal")
    client = warehouse(gen, served)
    try:
        t0 = time.monotonic()
        assert client.stock("A-1", "paris") == 9
        wait_for(page, lambda d: first_rule(d, "stock") == PARIS_RULE, timeout=2.0)
        print(f"\nApache call to the live journal: {(time.monotonic() - t0) * 1000:.0f} ms")
    finally:
        client.close()
    row = rows_of(page, "stock")[0]
    row.click()
    detail = row.find_element("xpath", "following-sibling::tr[1]")
    assert f"answered by rule {PARIS_RULE}" in detail.text
    assert '"site": "paris"' in detail.text
    assert "protocol binary/buffered" in detail.text
    screenshot(page, "journal")
    detail.find_element("css selector", "a.rule-link").click()  # to the rule itself
    wait_for(page, lambda d: d.find_element("id", "stubs").is_displayed())
    assert page.switch_to.active_element.get_attribute("data-rule") == PARIS_RULE
    show(page, "journal")
    dark = [{"name": "prefers-color-scheme", "value": "dark"}]
    page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": dark})
    try:
        background = page.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(20, 23, 27)"  # the dark palette follows the system's setting
        screenshot(page, "journal-dark")
    finally:
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_an_unmatched_call_shows_the_nearest_rule_and_the_differing_field(
    page: Any, gen: Any, served: Served
) -> None:
    show(page, "journal")
    client = warehouse(gen, served)
    try:
        client.stock("A-1", "rome")
    finally:
        client.close()
    wait_for(page, lambda d: first_rule(d, "stock") == "no match")
    row = rows_of(page, "stock")[0]
    row.send_keys("\n")  # opens by keyboard too
    detail = row.find_element("xpath", "following-sibling::tr[1]")
    wait_for(page, lambda _: "why no rule matched" in detail.text)
    nearest = detail.find_elements("css selector", "ul.explain li")[0].text
    assert nearest == f'{STOCK_RULE} when.site: wanted "berlin", got "rome" (1 of 2 fields matched)'
    screenshot(page, "why-no-match")


def test_a_stub_added_on_the_page_answers_the_next_call(page: Any, gen: Any, served: Served) -> None:
    show(page, "stubs")
    page.find_element("css selector", '#s-service option[value="inventory.Warehouse"]').click()
    page.find_element("id", "s-method").send_keys("stock")
    rule = page.find_element("id", "s-rule")
    rule.clear()
    rule.send_keys('{"when": {"site": "oslo"}, "return": 123}')
    page.find_element("id", "s-add").click()
    wait_for(page, lambda d: d.find_element("id", "s-msg").text.startswith("added api:"))
    rule_id = page.find_element("id", "s-msg").text.removeprefix("added ")
    wait_for(page, lambda d: rule_id in d.find_element("id", "s-rows").text)
    client = warehouse(gen, served)
    try:
        assert client.stock("Z-9", "oslo") == 123
    finally:
        client.close()
    hits = f"{rule_id} inventory.Warehouse stock api 1"
    wait_for(page, lambda d: hits in d.find_element("id", "s-rows").text)
    screenshot(page, "stubs")
    show(page, "latency")
    wait_for(page, lambda d: "inventory.Warehouse.stock" in d.find_element("id", "l-rows").text)
    assert "latency_ms" in page.find_element("id", "l-rows").text  # the configured latency, beside measured
    dots = page.find_elements("css selector", "#l-rows svg.chart circle")
    assert {d.get_attribute("class") for d in dots} == {"p50", "p90", "p99"}  # drawn, even from one slice
    screenshot(page, "latency")


def test_a_run_time_rule_is_edited_and_removed_on_the_page_and_the_journal_cleared(
    page: Any, gen: Any, served: Served
) -> None:
    show(page, "stubs")
    page.find_element("css selector", '#s-service option[value="inventory.Warehouse"]').click()
    page.find_element("id", "s-method").send_keys("stock")
    rule = page.find_element("id", "s-rule")
    rule.clear()
    rule.send_keys('{"when": {"site": "lima"}, "return": 1}')
    page.find_element("id", "s-add").click()
    wait_for(page, lambda d: d.find_element("id", "s-msg").text.startswith("added api:"))
    first = page.find_element("id", "s-msg").text.removeprefix("added ")
    row = wait_for(page, lambda d: d.find_element("css selector", f'#s-rows tr[data-rule="{first}"]'))
    row.find_element("xpath", ".//button[text()='Edit']").click()
    assert page.find_element("id", "s-add").text == f"Replace {first}"
    rule.clear()
    rule.send_keys('{"when": {"site": "lima"}, "return": 2}')
    page.find_element("id", "s-add").click()
    wait_for(page, lambda d: d.find_element("id", "s-msg").text not in ("", f"added {first}"))
    second = page.find_element("id", "s-msg").text.removeprefix("added ")
    assert second.startswith("api:")
    wait_for(
        page,
        lambda d: f'data-rule="{first}"' not in d.find_element("id", "s-rows").get_attribute("innerHTML"),
    )
    client = warehouse(gen, served)
    try:
        assert client.stock("Z-1", "lima") == 2
        row = page.find_element("css selector", f'#s-rows tr[data-rule="{second}"]')
        row.find_element("xpath", ".//button[text()='Remove']").click()
        wait_for(
            page,
            lambda d: (
                f'data-rule="{second}"' not in d.find_element("id", "s-rows").get_attribute("innerHTML")
            ),
        )
        client.stock("Z-1", "lima")
        journal = json.loads(request(served, "GET", "/journal?service=Warehouse&method=stock")[2])
        assert journal["entries"][-1]["source"] == "generated"  # the removed rule no longer answers
    finally:
        client.close()
    page.find_element("id", "clear-journal").click()
    wait_for(page, lambda d: d.find_element("id", "a-msg").text == "journal cleared")
    page.find_element("id", "reset-state").click()
    wait_for(page, lambda d: d.find_element("id", "a-msg").text == "state reset")
    show(page, "journal")
    page.refresh()
    wait_for(page, lambda d: d.find_element("id", "live").text == "live")
    wait_for(page, lambda d: d.find_element("id", "j-count").text == "0 shown of 0")  # nothing came back


def test_a_broken_idl_save_shows_on_the_page(page: Any, served: Served) -> None:
    show(page, "timeline")
    idl = served.root / "idl" / "inventory.thrift"
    good = idl.read_text()
    idl.write_text(good.replace("service Billing {", "service Billing {\n  double refund(1: Nope x),"))
    try:
        wait_for(page, lambda d: "inventory.thrift:" in d.find_element("id", "t-rows").text, timeout=20)
        item = page.find_element("css selector", "#t-rows li.error").text
        assert "reload failed" in item
        assert "Nope" in item
        screenshot(page, "timeline")
    finally:
        idl.write_text(good)
    wait_for(
        page, lambda d: d.find_element("css selector", "#t-rows li").get_attribute("class") == "reload", 20
    )


def test_the_journal_keeps_up_with_a_burst_of_calls(page: Any, served: Served) -> None:
    """Numbers for the closing note, not a timing assertion: how fast a burst of calls reaches the page and
    the longest the tab's main thread was blocked meanwhile."""
    from thriftbox.client.catalog import ThriftClient
    from thriftbox.idl import load_catalog
    from thriftbox.idl.classes import Classes

    show(page, "journal")
    page.execute_script(
        "window.__gap = 0; let last = performance.now();"
        "window.__tick = setInterval(() => { const now = performance.now();"
        " window.__gap = Math.max(window.__gap, now - last); last = now; }, 10);"
    )
    wait_for(page, lambda d: " of " in d.find_element("id", "j-count").text, 10)  # the first render
    before = int(page.find_element("id", "j-count").text.split(" of ")[1])
    classes = Classes(load_catalog([served.root / "idl"], []))
    count, t0 = 0, time.monotonic()
    with ThriftClient(
        classes, "inventory.Shipping", "127.0.0.1", served.port("inventory.Shipping")
    ) as client:
        while time.monotonic() - t0 < 3.0:
            client.call("pending", limit=1)
            count += 1
    sent = time.monotonic() - t0
    wait_for(page, lambda d: int(d.find_element("id", "j-count").text.split(" of ")[1]) >= before + count, 30)
    caught_up = time.monotonic() - t0
    gap = page.execute_script("clearInterval(window.__tick); return window.__gap;")
    render = page.execute_script("return window.thriftboxDashboard.maxRenderMs;")
    print(
        f"\njournal burst: {count} calls in {sent:.2f} s ({count / sent:.0f}/s); on the page after "
        f"{caught_up:.2f} s; longest main-thread stall {gap:.0f} ms, longest redraw {render:.0f} ms"
    )
    assert int(page.find_element("id", "j-count").text.split(" of ")[1]) >= before + count
