"""Loading sets of files: discovery, includes, file keys and service ids, inheritance, reloading."""

from __future__ import annotations

from pathlib import Path

from tests.corpus import CORPUS, needs_corpus
from thriftbox.idl import load_catalog


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_folders_are_searched_recursively_and_roots_are_resolved(tmp_path: Path) -> None:
    write(tmp_path / "idl" / "b.thrift", "service B {}\n")
    write(tmp_path / "idl" / "deep" / "er" / "a.thrift", "service A {}\n")
    write(tmp_path / "idl" / "notes.txt", "service Ignored {}\n")
    single = write(tmp_path / "other" / "c.thrift", "service C {}\n")
    catalog = load_catalog([tmp_path / "idl" / ".." / "idl", str(single)])
    assert catalog.roots == ((tmp_path / "idl").resolve(), single.resolve())
    assert list(catalog.services) == ["a.A", "b.B", "c.C"]
    assert set(catalog.files) == {
        (tmp_path / "idl" / "b.thrift").resolve(),
        (tmp_path / "idl" / "deep" / "er" / "a.thrift").resolve(),
        single.resolve(),
    }


def test_included_files_are_loaded_and_served(tmp_path: Path) -> None:
    shared = write(tmp_path / "vendor" / "shared.thrift", "struct Ping {}\nservice Base { Ping ping() }\n")
    main = write(
        tmp_path / "app" / "main.thrift",
        'include "shared.thrift"\nservice Main extends shared.Base { shared.Ping pong() }\n',
    )
    catalog = load_catalog([main], [tmp_path / "vendor"])
    assert list(catalog.services) == ["main.Main", "shared.Base"]
    assert catalog.files[main.resolve()].includes == (shared.resolve(),)
    assert catalog.services["main.Main"].methods["pong"].returns.name == "shared.Ping"
    assert catalog.service_files("main.Main") == {main.resolve(), shared.resolve()}


def test_include_resolution_prefers_own_folder_then_include_dirs_in_order(tmp_path: Path) -> None:
    write(tmp_path / "first" / "dep.thrift", "const string WHERE = 'first'\n")
    write(tmp_path / "second" / "dep.thrift", "const string WHERE = 'second'\n")
    main = write(tmp_path / "app" / "main.thrift", 'include "dep.thrift"\nconst string W = dep.WHERE\n')
    dirs = [tmp_path / "first", tmp_path / "second"]
    assert load_catalog([main], dirs).consts["main.W"].value == "first"
    assert load_catalog([main], dirs[::-1]).consts["main.W"].value == "second"
    write(tmp_path / "app" / "dep.thrift", "const string WHERE = 'beside'\n")
    assert load_catalog([main], dirs).consts["main.W"].value == "beside"


def test_relative_includes_with_parent_folders(tmp_path: Path) -> None:
    write(tmp_path / "common" / "base.thrift", "typedef i64 Id\n")
    main = write(
        tmp_path / "svc" / "api" / "main.thrift",
        'include "../../common/base.thrift"\nstruct S { 1: base.Id id }\n',
    )
    field = load_catalog([main]).struct("main.S").fields[0]
    assert field.type.alias == "base.Id"


def test_clashing_stems_get_unique_stable_keys(tmp_path: Path) -> None:
    for folder in ("x/if", "y/interface", "z"):
        write(tmp_path / folder / "fb303.thrift", "service FacebookService { string getName() }\n")
    write(tmp_path / "z" / "other.thrift", "service Other {}\n")
    first = load_catalog([tmp_path])
    assert list(first.services) == [
        "if/fb303.FacebookService",
        "interface/fb303.FacebookService",
        "other.Other",
        "z/fb303.FacebookService",
    ]
    again = load_catalog([tmp_path / "z", tmp_path / "y", tmp_path / "x"])
    assert {f.key for f in again.files.values()} == {f.key for f in first.files.values()}


def test_keys_reach_further_up_when_parent_folders_clash_too(tmp_path: Path) -> None:
    write(tmp_path / "a" / "api" / "svc.thrift", "service S {}\n")
    write(tmp_path / "b" / "api" / "svc.thrift", "service S {}\n")
    catalog = load_catalog([tmp_path])
    assert list(catalog.services) == ["a/api/svc.S", "b/api/svc.S"]


@needs_corpus
def test_the_three_corpus_fb303_files_get_distinct_service_ids() -> None:
    folders = ["apache__thrift/contrib", "gglanzani__hmsclient", "toddlipcon__helenus"]
    catalog = load_catalog([CORPUS / f for f in folders])
    fb303 = sorted(s for s in catalog.services if s.endswith(".FacebookService"))
    assert fb303 == [
        "gglanzani__hmsclient/fb303.FacebookService",
        "if/fb303.FacebookService",
        "interface/fb303.FacebookService",
    ]
    hive = catalog.services["hive_metastore.ThriftHiveMetastore"]
    assert hive.extends == "gglanzani__hmsclient/fb303.FacebookService"


@needs_corpus
def test_scrooge_inheritance_chain_across_four_files() -> None:
    catalog = load_catalog(
        [CORPUS / "twitter__scrooge/scrooge-generator-tests/src/test/thrift/scala/inheritance"]
    )
    counts = {sid: len(s.methods) for sid, s in catalog.services.items()}
    assert counts == {"aaa.Aaa": 1, "bbb.Bbb": 2, "ccc.Ccc": 3, "ccc.CccExtended": 4, "ddd.Ddd": 5}
    ddd = catalog.services["ddd.Ddd"]
    assert ddd.extends == "ccc.CccExtended"
    assert [(m.name, m.declared_in) for m in ddd.methods.values()] == [
        ("get_box", "aaa.Aaa"),
        ("getInt", "bbb.Bbb"),
        ("setInt", "ccc.Ccc"),
        ("iiii", "ccc.CccExtended"),
        ("remove", "ddd.Ddd"),
    ]
    assert ddd.methods["get_box"].returns.name == "aaa.Box"
    assert catalog.service_files("ddd.Ddd") == {p for p in catalog.files}


def test_a_child_method_overrides_the_inherited_one_in_place(tmp_path: Path) -> None:
    main = write(
        tmp_path / "s.thrift",
        "service Child extends Parent { i64 b(), void c() }\nservice Parent { void a(), void b() }\n",
    )
    child = load_catalog([main]).services["s.Child"]
    assert [(m.name, m.declared_in) for m in child.methods.values()] == [
        ("a", "s.Parent"),
        ("b", "s.Child"),
        ("c", "s.Child"),
    ]
    assert child.methods["b"].returns.kind.value == "i64"


def test_loading_again_after_a_change_returns_the_new_definitions(tmp_path: Path) -> None:
    path = write(tmp_path / "live.thrift", "struct S { 1: i32 a }\nservice Svc { void one() }\n")
    inc = write(tmp_path / "inc.thrift", "const i32 N = 1\n")
    assert list(load_catalog([tmp_path]).services["live.Svc"].methods) == ["one"]
    write(
        path,
        'include "inc.thrift"\nstruct S { 1: i32 a, 2: string b = "x" }\nservice Svc { void one(), void two() }\n',
    )
    catalog = load_catalog([tmp_path])
    assert list(catalog.services["live.Svc"].methods) == ["one", "two"]
    assert [f.name for f in catalog.struct("live.S").fields] == ["a", "b"]
    write(inc, "const i32 N = 2\n")
    assert load_catalog([tmp_path]).consts["inc.N"].value == 2


def test_enums_structs_and_consts_are_qualified_by_file_key(tmp_path: Path) -> None:
    write(tmp_path / "a" / "types.thrift", "enum E { X }\nstruct S {}\nconst i32 C = 1\n")
    write(tmp_path / "b" / "types.thrift", "enum E { Y }\nstruct S {}\nconst i32 C = 2\n")
    catalog = load_catalog([tmp_path])
    assert sorted(catalog.enums) == ["a/types.E", "b/types.E"]
    assert sorted(catalog.structs) == ["a/types.S", "b/types.S"]
    assert {k: c.value for k, c in catalog.consts.items()} == {"a/types.C": 1, "b/types.C": 2}
    assert catalog.enum("b/types.E").values == {"Y": 0}
