"""Shared by the dashboard tests (no tests here): a held-out IDL with its stubs, and HTTP to a running serve."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

from tests.serve_support import Served
from thriftbox.control.auth import TOKEN_HEADER

# Held out: written for this test only, so the page is not shaped around the demo IDL.
IDL = """namespace py tbdash_gen

typedef string Sku

enum Carrier { POST = 1, COURIER = 2, FREIGHT = 3 }

struct Parcel {
  1: required Sku sku,
  2: i32 quantity,
  3: Carrier carrier,
  4: optional list<string> labels,
}

exception OutOfStock { 1: string message, 2: Sku sku }

service Warehouse {
  i32 stock(1: Sku sku, 2: string site),
  Parcel pick(1: Sku sku, 2: i32 quantity) throws (1: OutOfStock outOfStock),
}

service Shipping {
  string ship(1: Parcel parcel),
  list<Parcel> pending(1: i32 limit),
}

service Billing {
  double invoice(1: string customer, 2: list<Sku> skus),
}
"""

STUBS = """service: Warehouse
methods:
  stock:
    - when: {sku: A-1, site: berlin}
      return: 7
    - when: {sku: A-1, site: paris}
      return: 9
      latency_ms: 5
"""
STOCK_RULE = "mocks/warehouse.yaml:4"  # a rule's id: its file and the line of its entry
PARIS_RULE = "mocks/warehouse.yaml:6"


def request(
    served: Served, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    port = int(served.state()["admin_url"].rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        raw = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=raw, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def owned(served: Served) -> dict[str, str]:
    return {TOKEN_HEADER: served.state()["admin_token"], "Content-Type": "application/json"}


def read_events(served: Served, since: str, until: float) -> Iterator[tuple[str, Any]]:
    port = int(served.state()["admin_url"].rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", f"/dashboard/events?since={since}")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/event-stream"
    event, data = "", ""
    try:
        while time.monotonic() < until:
            line = resp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif not line and event:
                yield event, json.loads(data)
                event, data = "", ""
    finally:
        conn.close()
