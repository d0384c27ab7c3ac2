"""Apache Thrift's own Python library, with code from Apache's compiler, calls every method of real IDLs through
``thriftbox serve``: binary/buffered and compact/framed on the same port, answers well typed and valid."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve_support import REPO, serve
from thriftbox.idl import load_catalog

CALLER = Path(__file__).resolve().parents[1] / "apache_caller.py"

pytestmark = pytest.mark.skipif(
    shutil.which("thrift") is None, reason="Apache's compiler (thrift) is not installed"
)

# (name, folder to serve relative to the corpus or repo, include dirs, IDL files to generate code from)
CORPUS_CASES = {
    "tutorial": ("apache__thrift/tutorial", (), ("tutorial.thrift",)),
    "evernote": ("evernote__evernote-thrift/src", (), ("NoteStore.thrift", "UserStore.thrift")),
    "hive-metastore": ("gglanzani__hmsclient", (), ("hive_metastore.thrift",)),
    "hbase": (
        "Apache9__hbase/hbase-thrift/src/main/resources/org/apache/hadoop/hbase/thrift",
        (),
        ("Hbase.thrift",),
    ),
}


def generate(idl: Path, out: Path, include_dirs: tuple[Path, ...] = ()) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cmd = ["thrift", "-r", "--gen", "py", "-out", str(out)]
    for d in include_dirs:
        cmd += ["-I", str(d)]
    subprocess.run([*cmd, str(idl)], check=True, capture_output=True)


def call_all(gen: Path, service: str, port: int, protocol: str, framing: str) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, str(CALLER), str(gen), service, "127.0.0.1", str(port), protocol, framing],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def assert_all_methods_answer(folder: Path, idl_files: tuple[str, ...], root: Path, gen: Path) -> int:
    catalog = load_catalog([folder])
    for name in idl_files:
        generate(folder / name, gen)
    checked = 0
    with serve(root, [str(folder)]) as served:
        for svc in catalog.services.values():
            port = served.port(svc.id)
            for protocol, framing in (("binary", "buffered"), ("compact", "framed"), ("accel", "framed")):
                results = call_all(gen, svc.name, port, protocol, framing)
                assert set(results) == set(svc.methods), f"{svc.id}: methods differ"
                bad = {m: r for m, r in results.items() if r != "ok"}
                assert not bad, f"{svc.id} over {protocol}/{framing}: {bad}"
                checked += len(results)
        assert served.proc.poll() is None, "serve died during the calls"
    return checked


def test_demo_services_answer_apache_clients(tmp_path: Path) -> None:
    checked = assert_all_methods_answer(
        REPO / "idl", tuple(p.name for p in (REPO / "idl").glob("*.thrift")), tmp_path, tmp_path / "gen"
    )
    assert checked > 0


@pytest.mark.parametrize("case", sorted(CORPUS_CASES))
def test_corpus_services_answer_apache_clients(case: str, corpus: Path, tmp_path: Path) -> None:
    folder, _includes, files = CORPUS_CASES[case]
    checked = assert_all_methods_answer(corpus / folder, files, tmp_path, tmp_path / "gen")
    assert checked > 0
