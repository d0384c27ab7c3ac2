"""A real service for the tests: a stdlib-only HTTP server that, per request, makes a raw Thrift binary call to
the mock named by its environment (``USERS_ADDR = "{users.Users}"``) and answers with what it got back."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.serve_support import Served, cli_env, thriftbox_cmd

APP = r"""
import http.server, json, os, socket, struct, sys

def call_users():
    host, port = os.environ["USERS_ADDR"].rsplit(":", 1)
    name = b"getUser"
    args = struct.pack("!bhq", 10, 1, 42) + b"\x00"  # field 1: i64 42, then STOP
    message = struct.pack("!iI", -2147418111, len(name)) + name + struct.pack("!i", 7) + args  # strict CALL
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(message)
        data = b""
        while len(data) < 8 + len(name) + 4:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    version, size = struct.unpack("!iI", data[:8])
    (seqid,) = struct.unpack("!i", data[8 + size : 12 + size])
    return {"type": version & 0xFF, "name": data[8 : 8 + size].decode(), "seqid": seqid}

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "addr": os.environ["USERS_ADDR"],
            "host": os.environ["USERS_HOST"],
            "port": os.environ["USERS_PORT"],
            "argv": sys.argv[1:],
            "reply": call_users(),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

port = int(os.environ["LISTEN_PORT"])
print(f"frontend listening on {port}, calling users at {os.environ['USERS_ADDR']}", flush=True)
http.server.HTTPServer(("0.0.0.0", port), Handler).serve_forever()
"""

ENVIRONMENT = (
    'USERS_ADDR = "{users.Users}", USERS_HOST = "{users.Users.host}", USERS_PORT = "{users.Users.port}"'
)


def write_app(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(APP)
    return folder / "app.py"


def ask(port: int, timeout: float = 30.0) -> dict[str, Any]:
    """GET the real service on this machine's ``port``, retrying until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                return dict(json.loads(response.read()))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def thriftbox(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        thriftbox_cmd(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=timeout
    )


@contextmanager
def serve_here(cwd: Path, timeout: float = 180) -> Iterator[Served]:
    """``thriftbox serve`` in ``cwd`` with no arguments (thriftbox.toml says everything)."""
    log = cwd / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            thriftbox_cmd("serve"), cwd=cwd, env=cli_env(), stdout=fh, stderr=subprocess.STDOUT, text=True
        )
    served = Served(proc, cwd, log)
    try:
        served.wait_for_output("Ctrl-C to stop", timeout=timeout)
        yield served
    finally:
        if proc.poll() is None:
            served.interrupt(timeout=60)
