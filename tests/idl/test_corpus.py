"""Every real-world IDL file in the shared corpus, checked against Apache Thrift's own compiler as an oracle."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.protocol import TCyBinaryProtocolFactory
from thriftpy2.thrift import TPayload
from thriftpy2.utils import deserialize, serialize

from tests.corpus import CORPUS, FILES, needs_corpus
from thriftbox.idl import Catalog, load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Field, Kind, TypeRef

FBTHRIFT = "facebook__fbthrift"
# Include search paths the corpus needs beyond the including file's folder (see the corpus INDEX.md).
INCLUDE_DIRS = {
    "facebookarchive__scribe": ["apache__thrift/contrib"],
    "pinterest__rocksplicator": ["pinterest__rocksplicator"],
}
APACHE_REQUIREDNESS = {"req_out": "default", "required": "required", "optional": "optional"}

pytestmark = needs_corpus


def _id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def _include_dirs(path: Path) -> list[Path]:
    return [CORPUS / d for d in INCLUDE_DIRS.get(path.relative_to(CORPUS).parts[0], [])]


apache_files = pytest.mark.parametrize("path", [f for f in FILES if FBTHRIFT not in f.parts], ids=_id)


@pytest.fixture(scope="session")
def catalog_of() -> Callable[[Path], Catalog]:
    """Loads each corpus file once per session (the tests below share the catalogs)."""
    cache: dict[Path, Catalog] = {}

    def get(path: Path) -> Catalog:
        if path not in cache:
            cache[path] = load_catalog([path], _include_dirs(path))
        return cache[path]

    return get


@pytest.fixture(scope="session")
def apache_json(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], dict[str, Any]]:
    """``thrift --gen json`` output for a corpus file, cached per session; skips if Apache rejects it."""
    thrift = shutil.which("thrift")
    out_root = tmp_path_factory.mktemp("apache-json")
    cache: dict[Path, dict[str, Any] | str] = {}

    def get(path: Path) -> dict[str, Any]:
        if thrift is None:
            pytest.skip("Apache's thrift compiler is not installed")
        if path not in cache:
            out = out_root / str(len(cache))
            out.mkdir()
            includes = [arg for d in _include_dirs(path) for arg in ("-I", str(d))]
            proc = subprocess.run(
                [thrift, "--gen", "json", "-r", "-o", str(out), *includes, str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                output = (proc.stdout + proc.stderr).strip().splitlines()
                cache[path] = " ".join(line for line in output if line and "WARNING" not in line)[:300]
            else:
                cache[path] = json.loads((out / "gen-json" / f"{path.stem}.json").read_text(encoding="utf-8"))
        result = cache[path]
        if isinstance(result, str):
            pytest.skip(f"Apache's thrift compiler rejects this file: {result}")
        return result

    return get


# -- loading ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_every_corpus_file_loads(path: Path, catalog_of: Callable[[Path], Catalog]) -> None:
    catalog = catalog_of(path)
    assert path.resolve() in catalog.files
    assert catalog.roots == (path.resolve(),)


def test_fbthrift_corpus_files_load_with_their_package_namespaces_and_methods(
    catalog_of: Callable[[Path], Catalog],
) -> None:
    folder = CORPUS / FBTHRIFT / "thrift"
    chat = catalog_of(folder / "example/if/chatroom.thrift")
    chat_file = chat.files[(folder / "example/if/chatroom.thrift").resolve()]
    assert chat_file.package == "facebook.com/thrift/example"
    assert chat_file.namespaces == {"cpp2": "example.chatroom", "go": "example.if.chatroom", "py3": "example"}
    assert {sid: list(s.methods) for sid, s in chat.services.items()} == {
        "chatroom.ChatRoomService": ["initialize", "getMessages", "sendMessage"],
        "chatroom.Echo": ["echo"],
    }
    upgrade = catalog_of(folder / "lib/thrift/RocketUpgrade.thrift")
    upgrade_file = upgrade.files[(folder / "lib/thrift/RocketUpgrade.thrift").resolve()]
    assert upgrade_file.namespaces["go"] == "github.com/facebook/fbthrift/thrift/lib/thrift/rocket_upgrade"
    assert list(upgrade.services["RocketUpgrade.RocketUpgrade"].methods) == ["upgradeToRocket"]


def test_whole_corpus_loads_in_well_under_a_second() -> None:
    folders = [p for p in sorted(CORPUS.iterdir()) if p.is_dir()]
    dirs = [CORPUS / d for ds in INCLUDE_DIRS.values() for d in ds]
    start = time.perf_counter()
    catalog = load_catalog(folders, dirs)
    elapsed = time.perf_counter() - start
    assert len(catalog.files) == len(FILES) == 71
    assert elapsed < 1.0


# -- Apache's compiler as the oracle ---------------------------------------------------------------------


def _apache_type(type_id: str, detail: dict[str, Any] | None) -> Any:
    if type_id in ("struct", "union", "exception"):
        assert detail is not None
        return ("struct", detail["class"].rsplit(".", 1)[-1])
    if type_id in ("list", "set"):
        assert detail is not None
        return (type_id, _apache_type(detail["elemTypeId"], detail.get("elemType")))
    if type_id == "map":
        assert detail is not None
        key = _apache_type(detail["keyTypeId"], detail.get("keyType"))
        return ("map", key, _apache_type(detail["valueTypeId"], detail.get("valueType")))
    return type_id


def _our_type(t: TypeRef) -> Any:
    if t.kind is Kind.STRUCT:
        return ("struct", str(t.name).rsplit(".", 1)[-1])
    if t.kind in (Kind.LIST, Kind.SET):
        assert t.elem is not None
        return (t.kind.value, _our_type(t.elem))
    if t.kind is Kind.MAP:
        assert t.key is not None
        assert t.elem is not None
        return ("map", _our_type(t.key), _our_type(t.elem))
    return {Kind.BYTE: "i8", Kind.ENUM: "i32"}.get(t.kind, t.kind.value)  # Apache's JSON says i32 for enums


def _apache_fields(fields: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (f["key"], f["name"], _apache_type(f["typeId"], f.get("type")), APACHE_REQUIREDNESS[f["required"]])
        for f in fields
    ]


def _our_fields(fields: tuple[Field, ...]) -> list[tuple[Any, ...]]:
    return [(f.id, f.name, _our_type(f.type), f.requiredness) for f in fields]


def _empty_as_list(value: Any) -> Any:
    """Apache writes an empty container literal as it was spelled (``{}`` for an empty set)."""
    if value == {} or value == []:
        return []
    if isinstance(value, list):
        return [_empty_as_list(v) for v in value]
    if isinstance(value, dict):
        return {k: _empty_as_list(v) for k, v in value.items()}
    return value


def _jsonish(value: Any) -> Any:
    """A catalog value as Apache's JSON writes it: string keys, bools as 0/1, binary as text."""
    return _empty_as_list(_to_json(value))


def _to_json(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k if isinstance(k, str) else json.dumps(_to_json(k)): _to_json(v) for k, v in value.items()}
    return value


@apache_files
def test_services_match_apache(path: Path, catalog_of: Callable[[Path], Catalog], apache_json: Any) -> None:
    oracle = apache_json(path)
    catalog = catalog_of(path)
    ours = {s.name: s for s in catalog.services.values() if s.file == path.resolve()}
    assert list(ours) == sorted(s["name"] for s in oracle["services"])
    for theirs in oracle["services"]:
        svc = ours[theirs["name"]]
        own = [m for m in svc.methods.values() if m.declared_in == svc.id]
        assert [m.name for m in own] == [f["name"] for f in theirs["functions"]]
        if "extends" in theirs:
            assert svc.extends is not None
            assert svc.extends.rsplit(".", 1)[-1] == theirs["extends"].rsplit(".", 1)[-1]
        else:
            assert svc.extends is None
        for method, fn in zip(own, theirs["functions"], strict=True):
            assert _our_fields(method.args) == _apache_fields(fn["arguments"]), method.name
            assert _our_fields(method.throws) == _apache_fields(fn["exceptions"]), method.name
            assert _our_type(method.returns) == _apache_type(fn["returnTypeId"], fn.get("returnType"))
            assert method.oneway == fn["oneway"]


@apache_files
def test_types_and_constants_match_apache(
    path: Path, catalog_of: Callable[[Path], Catalog], apache_json: Any
) -> None:
    oracle = apache_json(path)
    catalog = catalog_of(path)
    here = path.resolve()
    structs = {s.name: s for s in catalog.structs.values() if s.file == here}
    assert list(structs) == [s["name"] for s in oracle["structs"]]
    for theirs in oracle["structs"]:
        sdef = structs[theirs["name"]]
        kind = "exception" if theirs["isException"] else "union" if theirs["isUnion"] else "struct"
        assert sdef.kind == kind
        assert _our_fields(sdef.fields) == _apache_fields(theirs["fields"]), sdef.name
        defaults = [_jsonish(f.default) for f in sdef.fields]
        assert defaults == [_empty_as_list(f.get("default")) for f in theirs["fields"]], sdef.name
    enums = {e.name: dict(e.values) for e in catalog.enums.values() if e.file == here}
    assert enums == {e["name"]: {m["name"]: m["value"] for m in e["members"]} for e in oracle["enums"]}
    consts = {c.name: _jsonish(c.value) for c in catalog.consts.values() if c.file == here}
    assert consts == {c["name"]: _empty_as_list(c["value"]) for c in oracle["constants"]}
    assert dict(catalog.files[here].namespaces) == oracle["namespaces"]


# -- the catalog drives real thriftpy2 payload classes ----------------------------------------------------


def _sample(classes: Classes, t: TypeRef, depth: int) -> Any:
    """A small value of type ``t``; recursion stops at depth 3 (recursive structs)."""
    kind, catalog = t.kind, classes.catalog
    simple = {Kind.BOOL: True, Kind.DOUBLE: 1.5, Kind.STRING: "héllo", Kind.BINARY: b"\x00\xff"}
    if kind in simple:
        return simple[kind]
    if kind in (Kind.BYTE, Kind.I16, Kind.I32, Kind.I64):
        return 7
    if kind is Kind.UUID:
        return bytes(range(16))
    if kind is Kind.ENUM:
        return next(iter(catalog.enum(str(t.name)).values.values()))
    if kind in (Kind.LIST, Kind.SET):
        assert t.elem is not None
        return [_sample(classes, t.elem, depth + 1)] if depth < 3 else []
    if kind is Kind.MAP:
        assert t.key is not None
        assert t.elem is not None
        if depth >= 3 or t.key.kind in (Kind.LIST, Kind.SET, Kind.MAP):
            return {}  # thriftpy2 decodes container keys as lists, which cannot be dict keys
        return {_sample(classes, t.key, depth + 1): _sample(classes, t.elem, depth + 1)}
    sdef = catalog.struct(str(t.name))
    cls = classes.struct(sdef.qname)
    if depth >= 3:
        return cls()
    fields = sdef.fields[:1] if sdef.kind == "union" else sdef.fields
    return cls(**{f.name: _sample(classes, f.type, depth + 1) for f in fields})


def _plain(value: Any) -> Any:
    """Payloads as plain data: thriftpy2 exceptions compare by identity, not by value."""
    if isinstance(value, TPayload):
        return (type(value).__name__, {k: _plain(v) for k, v in vars(value).items()})
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@apache_files
def test_args_classes_round_trip_through_binary_protocol(
    path: Path, catalog_of: Callable[[Path], Catalog]
) -> None:
    catalog = catalog_of(path)
    classes = Classes(catalog)
    proto = TCyBinaryProtocolFactory()  # type: ignore[no-untyped-call]
    for svc, method in catalog.iter_methods():
        cls = classes.args(svc.id, method.name)
        sent = cls(**{f.name: _sample(classes, f.type, 0) for f in method.args})
        received = deserialize(cls(), serialize(sent, proto), proto)
        assert _plain(received) == _plain(sent), f"{svc.id}.{method.name}"
        classes.result(svc.id, method.name)  # the result class builds too
