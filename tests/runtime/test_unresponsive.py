"""A mock host that stops answering (here: SIGSTOP, as a deadlock or a stuck GC would look) is shown as
`unresponsive` by `thriftbox status`, then replaced after a grace period (issue 16: health that means something);
it said `ready` for as long as the process existed."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.docker_support import wait_until
from tests.serve_support import Served, cli_env, serve, thriftbox_cmd
from thriftbox.client.probe import probe
from thriftbox.runtime import process

IDL = Path(__file__).parent / "docker_fixtures" / "idl"


def status(served: Served) -> list[dict[str, Any]]:
    out = subprocess.run(
        thriftbox_cmd("status", "--json"), cwd=served.root, env=cli_env(), capture_output=True, text=True
    )
    return list(json.loads(out.stdout))


def test_a_silent_host_is_reported_unresponsive_then_replaced(tmp_path: Path) -> None:
    shutil.copytree(IDL, tmp_path / "idl")
    with serve(tmp_path, ["idl"]) as served:
        rows = status(served)
        assert {r["state"] for r in rows} == {"ready"}
        pid = int(rows[0]["detail"].split()[1])
        os.kill(pid, signal.SIGSTOP)
        try:
            wait_until(
                lambda: {r["state"] for r in status(served)} == {"unresponsive"}, 15, "shown unresponsive"
            )
            t0 = time.monotonic()
            wait_until(
                lambda: "killed and restarted" in served.output(), process.UNRESPONSIVE_GRACE + 15, "replaced"
            )
            waited = time.monotonic() - t0
        finally:
            with contextlib.suppress(ProcessLookupError):  # gone, as it should be
                os.kill(pid, signal.SIGCONT)
        rows = status(served)
        assert {r["state"] for r in rows} == {"ready"}
        assert int(rows[0]["detail"].split()[1]) != pid
        assert probe("127.0.0.1", served.port("users.Users"), timeout=2)
        print(f"\nreplaced {waited:.1f} s after it was first shown unresponsive")
    assert "does not answer its health check" in served.output()
