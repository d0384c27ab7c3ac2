"""Reload planning over hand-built catalogs: which services start, stop or reload, and what changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from thriftbox.idl import load_catalog
from thriftbox.idl.model import (
    Catalog,
    EnumDef,
    Field,
    Kind,
    Method,
    ServiceDef,
    StructDef,
    ThriftFile,
    TypeRef,
)
from thriftbox.supervisor.plan import ReloadPlan, ServiceChange, plan_reload

ROOT = Path("/idl")
VOID = TypeRef(Kind.VOID)
I64 = TypeRef(Kind.I64)
STRING = TypeRef(Kind.STRING)


def path(key: str) -> Path:
    return ROOT / f"{key}.thrift"


def struct_ref(qname: str) -> TypeRef:
    return TypeRef(Kind.STRUCT, name=qname)


def method(name: str, *args: Field, returns: TypeRef = VOID, throws: tuple[Field, ...] = ()) -> Method:
    return Method(name, args, returns, throws, oneway=False, declared_in="")


def service(sid: str, *methods: Method, extends: ServiceDef | None = None) -> ServiceDef:
    key, name = sid.rsplit(".", 1)
    inherited = dict(extends.methods) if extends else {}
    return ServiceDef(
        id=sid,
        name=name,
        file=path(key),
        methods=inherited | {m.name: m for m in methods},
        extends=extends.id if extends else None,
    )


def struct(qname: str, *fields: Field) -> StructDef:
    key, name = qname.rsplit(".", 1)
    return StructDef(qname, name, "struct", fields, path(key))


def catalog(
    includes: Mapping[str, Iterable[str]],
    services: Iterable[ServiceDef],
    structs: Iterable[StructDef] = (),
    enums: Iterable[EnumDef] = (),
) -> Catalog:
    """A catalog of files ``<key>.thrift``, ``includes`` mapping each file key to the keys it includes."""
    files = {path(k): ThriftFile(path(k), k, tuple(path(i) for i in inc)) for k, inc in includes.items()}
    return Catalog(
        roots=(ROOT,),
        files=files,
        structs={s.qname: s for s in structs},
        enums={e.qname: e for e in enums},
        services={s.id: s for s in sorted(services, key=lambda s: s.id)},
    )


USER = struct("users.User", Field(1, "id", I64), Field(2, "name", STRING))
GET_USER = method("getUser", Field(1, "id", I64), returns=struct_ref("users.User"))
PING = method("ping")


def test_added_removed_and_changed_methods() -> None:
    old = catalog({"users": []}, [service("users.Users", GET_USER, PING)], [USER])
    get_user_by_name = method("getUser", Field(1, "id", STRING), returns=struct_ref("users.User"))
    new = catalog(
        {"users": []},
        [service("users.Users", get_user_by_name, method("deleteUser", Field(1, "id", I64)))],
        [USER],
    )
    plan = plan_reload(old, new, {path("users")})
    assert plan.reloaded == (
        ServiceChange("users.Users", added=("deleteUser",), removed=("ping",), changed=("getUser",)),
    )
    assert plan.started == plan.stopped == plan.untouched == ()


def test_a_changed_struct_changes_every_method_that_reaches_it() -> None:
    list_users = method("listUsers", returns=TypeRef(Kind.LIST, elem=struct_ref("users.User")))
    users = service("users.Users", GET_USER, list_users, PING)
    old = catalog({"users": []}, [users], [USER])
    user_with_email = struct("users.User", *USER.fields, Field(3, "email", STRING, requiredness="optional"))
    new = catalog({"users": []}, [users], [user_with_email])
    (change,) = plan_reload(old, new, {path("users")}).reloaded
    assert change.changed == ("getUser", "listUsers")
    assert not change.added
    assert not change.removed


def test_changes_to_defaults_annotations_throws_and_enums_count() -> None:
    status = EnumDef("users.Status", "Status", {"ACTIVE": 1}, path("users"))
    error = struct("users.NotFound", Field(1, "message", STRING))
    methods = [
        method("a", Field(1, "limit", I64, default=10)),
        method("b", Field(1, "name", TypeRef(Kind.STRING), annotations={"faker": "name"})),
        method("c", throws=(Field(1, "nf", struct_ref("users.NotFound")),)),
        method("d", Field(1, "s", TypeRef(Kind.ENUM, name="users.Status"))),
        method("e", Field(1, "when", I64)),
    ]
    old = catalog({"users": []}, [service("users.Users", *methods)], [error], [status])
    methods2 = [
        method("a", Field(1, "limit", I64, default=20)),
        method("b", Field(1, "name", TypeRef(Kind.STRING), annotations={"faker": "user_name"})),
        method(
            "c",
            throws=(
                Field(1, "nf", struct_ref("users.NotFound")),
                Field(2, "x", struct_ref("users.NotFound")),
            ),
        ),
        method("d", Field(1, "s", TypeRef(Kind.ENUM, name="users.Status"))),
        method("e", Field(1, "when", TypeRef(Kind.I64, alias="Timestamp"))),
    ]
    status2 = EnumDef("users.Status", "Status", {"ACTIVE": 1, "BANNED": 2}, path("users"))
    new = catalog({"users": []}, [service("users.Users", *methods2)], [error], [status2])
    (change,) = plan_reload(old, new, {path("users")}).reloaded
    assert change.changed == ("a", "b", "c", "d", "e")


def test_recursive_structs_are_compared_deeply_without_looping() -> None:
    node = struct(
        "tree.Node",
        Field(1, "value", I64),
        Field(2, "children", TypeRef(Kind.LIST, elem=struct_ref("tree.Node"))),
    )
    walk = method("walk", Field(1, "root", struct_ref("tree.Node")))
    old = catalog({"tree": []}, [service("tree.Tree", walk)], [node])
    same = catalog({"tree": []}, [service("tree.Tree", walk)], [node])
    assert plan_reload(old, same, {path("tree")}).reloaded == (ServiceChange("tree.Tree"),)

    node2 = struct("tree.Node", Field(1, "value", STRING), *node.fields[1:])
    new = catalog({"tree": []}, [service("tree.Tree", walk)], [node2])
    assert plan_reload(old, new, {path("tree")}).reloaded == (ServiceChange("tree.Tree", changed=("walk",)),)


def test_mutually_recursive_structs_report_every_method_that_reaches_the_change() -> None:
    # A -> B -> A; only A's own field changes. Comparing A first assumes A equal while looking at B, which must
    # not leave B recorded as unchanged: B contains A.
    a_old = struct("g.A", Field(1, "b", struct_ref("g.B")), Field(2, "x", I64))
    a_new = struct("g.A", Field(1, "b", struct_ref("g.B")), Field(2, "x", STRING))
    b = struct("g.B", Field(1, "a", struct_ref("g.A"), requiredness="optional"))
    takes_a = method("takesA", Field(1, "a", struct_ref("g.A")))
    takes_b = method("takesB", Field(1, "b", struct_ref("g.B")))
    old = catalog({"g": []}, [service("g.G", takes_a, takes_b, PING)], [a_old, b])
    new = catalog({"g": []}, [service("g.G", takes_a, takes_b, PING)], [a_new, b])
    (change,) = plan_reload(old, new, {path("g")}).reloaded
    assert change.changed == ("takesA", "takesB")


def test_a_change_in_an_included_file_reloads_its_dependents_only() -> None:
    includes = {"common": [], "users": ["common"], "feed": ["users"], "ads": []}
    services = [service("users.Users", PING), service("feed.Feed", PING), service("ads.Ads", PING)]
    plan = plan_reload(catalog(includes, services), catalog(includes, services), {path("common")})
    assert [c.service_id for c in plan.reloaded] == ["feed.Feed", "users.Users"]
    assert not any(c.methods_changed for c in plan.reloaded)
    assert plan.untouched == ("ads.Ads",)


def test_extends_across_files_reloads_the_child_when_the_parent_changes() -> None:
    includes = {"base": [], "users": ["base"], "ads": []}
    base_old = service("base.Base", PING)
    base_new = service("base.Base", PING, method("health", returns=STRING))
    old = catalog(
        includes,
        [base_old, service("users.Users", GET_USER, extends=base_old), service("ads.Ads", PING)],
        [USER],
    )
    new = catalog(
        includes,
        [base_new, service("users.Users", GET_USER, extends=base_new), service("ads.Ads", PING)],
        [USER],
    )
    plan = plan_reload(old, new, {path("base")})
    assert plan.reloaded == (
        ServiceChange("base.Base", added=("health",)),
        ServiceChange("users.Users", added=("health",)),
    )
    assert plan.untouched == ("ads.Ads",)


def test_started_stopped_and_summary() -> None:
    old = catalog(
        {"users": [], "feed": []},
        [service("users.Users", GET_USER, PING), service("feed.Feed", PING)],
        [USER],
    )
    get_user_v2 = method(
        "getUser",
        Field(1, "id", I64),
        Field(2, "fields", TypeRef(Kind.SET, elem=STRING)),
        returns=struct_ref("users.User"),
    )
    new = catalog(
        {"users": [], "ads": []},
        [service("users.Users", get_user_v2, PING, method("deleteUser")), service("ads.Ads", PING)],
        [USER],
    )
    plan = plan_reload(old, new, {path("users"), path("feed"), path("ads")})
    assert plan.started == ("ads.Ads",)
    assert plan.stopped == ("feed.Feed",)
    assert (
        plan.summary() == "reloaded users.Users (+deleteUser, ~getUser); started ads.Ads; stopped feed.Feed"
    )


def test_summary_lists_several_services_and_removed_methods() -> None:
    plan = ReloadPlan(
        started=(),
        stopped=(),
        reloaded=(ServiceChange("a.A", removed=("old",)), ServiceChange("b.B")),
        untouched=("c.C",),
    )
    assert plan.summary() == "reloaded a.A (-old), b.B"


def test_stub_changes_reload_only_the_named_services() -> None:
    cat = catalog({"users": [], "ads": []}, [service("users.Users", PING), service("ads.Ads", PING)])
    plan = plan_reload(cat, cat, set(), stub_services={"ads.Ads"})
    assert plan.reloaded == (ServiceChange("ads.Ads"),)
    assert plan.untouched == ("users.Users",)
    assert plan.summary() == "reloaded ads.Ads"


def test_unrelated_changes_touch_nothing() -> None:
    cat = catalog({"users": []}, [service("users.Users", GET_USER)], [USER])
    plan = plan_reload(cat, cat, {ROOT / "notes.thrift", ROOT / "stubs" / "users.yaml"})
    assert plan.empty
    assert plan.untouched == ("users.Users",)
    assert plan.summary() == "no service changed"


def test_a_definition_that_differs_is_reloaded_even_without_a_changed_file() -> None:
    old = catalog({"users": []}, [service("users.Users", GET_USER)], [USER])
    new = catalog(
        {"users": []}, [service("users.Users", GET_USER)], [struct("users.User", Field(1, "id", STRING))]
    )
    plan = plan_reload(old, new, set())
    assert plan.reloaded == (ServiceChange("users.Users", changed=("getUser",)),)


def test_plan_over_real_files(tmp_path: Path) -> None:
    """The same planning over catalogs loaded from files, as ``serve`` does after a save."""
    idl = tmp_path.resolve() / "idl"
    (idl / "shared").mkdir(parents=True)
    common = idl / "shared" / "common.thrift"
    common.write_text("struct User {\n  1: i64 id\n  2: string name\n}\n")
    (idl / "users.thrift").write_text(
        'include "shared/common.thrift"\n'
        "service Users {\n  common.User getUser(1: i64 id)\n  void ping()\n}\n"
        "service Admin extends Users {\n  void purge()\n}\n"
    )
    (idl / "ads.thrift").write_text("service Ads {\n  list<string> ads(1: i32 n)\n}\n")
    old = load_catalog([idl])

    common.write_text("struct User {\n  1: i64 id\n  2: string name\n  3: optional string email\n}\n")
    (idl / "ads.thrift").unlink()
    (idl / "feed.thrift").write_text("service Feed {\n  void refresh()\n}\n")
    new = load_catalog([idl])

    plan = plan_reload(old, new, {common, idl / "ads.thrift", idl / "feed.thrift"})
    assert plan.reloaded == (
        ServiceChange("users.Admin", changed=("getUser",)),
        ServiceChange("users.Users", changed=("getUser",)),
    )
    assert plan.started == ("feed.Feed",)
    assert plan.stopped == ("ads.Ads",)
    assert plan.summary() == (
        "reloaded users.Admin (~getUser), users.Users (~getUser); started feed.Feed; stopped ads.Ads"
    )
