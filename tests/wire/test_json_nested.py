"""Containers inside containers over Apache's JSON protocol: ``list<map<string, set<i32>>>`` is answered (it
was always INTERNAL_ERROR over JSON, while binary and compact worked), in Apache's layout, with real sockets
against ``thriftbox serve``."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.serve_support import serve

IDL = "service Nested {\n  list<map<string, set<i32>>> nested()\n  map<i32, list<double>> byId()\n}\n"


def json_call(port: int, method: str) -> list[object]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(json.dumps([1, method, 1, 5, {}]).encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            data += chunk
            try:
                return list(json.loads(data))
            except ValueError:
                if not chunk:
                    raise


def test_nested_containers_are_answered_over_json(tmp_path: Path) -> None:
    (tmp_path / "idl").mkdir()
    (tmp_path / "idl" / "nested.thrift").write_text(IDL)
    with serve(tmp_path, ["idl"]) as served:
        port = served.port("nested.Nested")
        version, name, mtype, seqid, result = json_call(port, "nested")
        assert (version, name, mtype, seqid) == (1, "nested", 2, 5)  # a REPLY, not an EXCEPTION
        elem_type, count, *maps = result["0"]["lst"]  # type: ignore[index]
        assert (elem_type, count, len(maps)) == ("map", len(maps), len(maps))
        for key_type, value_type, size, pairs in maps:
            assert (key_type, value_type, size) == ("str", "set", len(pairs))
            for values in pairs.values():
                assert values[0] == "i32"
                assert values[1] == len(values) - 2
                assert all(isinstance(v, int) for v in values[2:])
        reply = json_call(port, "byId")
        assert reply[2] == 2
        key_type, value_type, size, pairs = reply[4]["0"]["map"]  # type: ignore[index]
        assert (key_type, value_type) == ("i32", "lst")
        assert all(k.lstrip("-").isdigit() for k in pairs)  # numeric keys are quoted, as Apache writes them
