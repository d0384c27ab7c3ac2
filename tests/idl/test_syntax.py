"""The Thrift grammar thriftbox accepts, and what each construct becomes in the catalog.

The first group are the constructs that make thriftpy2's parser reject real corpus files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from thriftpy2.protocol import TCyBinaryProtocolFactory
from thriftpy2.utils import deserialize, serialize

from thriftbox.idl import Catalog, load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Kind, TypeRef


def load(tmp_path: Path, text: str, name: str = "t.thrift") -> Catalog:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_catalog([path])


# -- what thriftpy2 0.7.1 rejects ------------------------------------------------------------------------


def test_namespace_with_annotations(tmp_path: Path) -> None:
    catalog = load(
        tmp_path, "namespace xsd test (uri = 'http://thrift.apache.org/ns/ThriftTest')\nstruct S {}\n"
    )
    assert catalog.files[(tmp_path / "t.thrift").resolve()].namespaces == {"xsd": "test"}


def test_uuid_type_and_uuid_constants(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        "typedef uuid Id\nstruct S { 1: uuid a, 2: Id b }\n"
        "const uuid U = '{00112233-4455-6677-8899-aaBBccDDeeFF}'\n",
    )
    a, b = catalog.struct("t.S").fields
    assert a.type == TypeRef(Kind.UUID)
    assert b.type == TypeRef(Kind.UUID, alias="Id")
    assert catalog.consts["t.U"].value == bytes.fromhex("00112233445566778899aabbccddeeff")


def test_cpp_reference_marker(tmp_path: Path) -> None:
    catalog = load(tmp_path, "struct Rec { 1: optional Rec & next, 2: list<Rec> & more }\n")
    next_, more = catalog.struct("t.Rec").fields
    assert next_.type == TypeRef(Kind.STRUCT, name="t.Rec")
    assert more.type.elem == TypeRef(Kind.STRUCT, name="t.Rec")


def test_negative_hex_constants(tmp_path: Path) -> None:
    catalog = load(
        tmp_path, "const i32 NEG = -0x0001F\nconst i64 BIG = 0x7fffffffffffffff\nconst i32 POS = +0x10\n"
    )
    assert [c.value for c in catalog.consts.values()] == [-31, 2**63 - 1, 16]


def test_const_map_with_container_keys_gets_tuple_keys(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        "const map<list<i8>, i8> L = {[1, 2, 3] : 1, [] : 0}\n"
        "const map<map<i8, i8>, i8> M = {{1 : 1} : 1, {} : 0}\n",
    )
    assert catalog.consts["t.L"].value == {(1, 2, 3): 1, (): 0}
    assert catalog.consts["t.M"].value == {((1, 1),): 1, (): 0}


def test_unicode_escapes_including_surrogate_pairs(tmp_path: Path) -> None:
    catalog = load(tmp_path, 'const string S = "caf\\u00e9 \\uD83D\\uDE00 \\t\\"q\\" \\\\"\n')
    assert catalog.consts["t.S"].value == 'café \U0001f600 \t"q" \\'


def test_async_void_is_the_old_spelling_of_oneway(tmp_path: Path) -> None:
    catalog = load(
        tmp_path, "service S {\n  async void fire(1: i32 x),\n  async ping()\n}\nstruct async {}\n"
    )
    methods = catalog.services["t.S"].methods
    assert methods["fire"].oneway
    # "async f(...)" has no room for a modifier: async is the return type there
    assert not methods["ping"].oneway
    assert methods["ping"].returns == TypeRef(Kind.STRUCT, name="t.async")


def test_enum_value_named_through_a_typedef(tmp_path: Path) -> None:
    (tmp_path / "inc.thrift").write_text("enum Color { RED = 1, GREEN = 2 }\ntypedef Color Paint\n")
    catalog = load(
        tmp_path,
        'include "inc.thrift"\ntypedef inc.Color C\n'
        "const C A = C.GREEN\nconst inc.Paint B = inc.Paint.RED\nconst i32 D = inc.Color.GREEN\n",
    )
    assert [catalog.consts[f"t.{n}"].value for n in "ABD"] == [2, 1, 2]
    assert catalog.consts["t.A"].type == TypeRef(Kind.ENUM, name="inc.Color", alias="C")


def test_enum_default_before_the_enum_is_declared(tmp_path: Path) -> None:
    catalog = load(tmp_path, "struct S { 1: Kind k = Kind.BB }\nenum Kind { AA, BB }\n")
    assert catalog.struct("t.S").fields[0].default == 1


def test_python_keywords_as_names_work_end_to_end(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        "struct from { 1: string from, 2: i32 next, 3: bool async, 4: i32 self, 5: string print }\n"
        "service pass { from lambda(1: from from, 2: i32 await) }\n",
    )
    fields = catalog.struct("t.from").fields
    assert [f.name for f in fields] == ["from", "next", "async", "self", "print"]
    method = catalog.services["t.pass"].methods["lambda"]
    assert [a.name for a in method.args] == ["from", "await"]
    classes = Classes(catalog)
    args_cls = classes.args("t.pass", "lambda")
    value = classes.struct("t.from")(**{"from": "x", "next": 1, "async": True, "self": 2, "print": "p"})
    sent = args_cls(**{"from": value, "await": 3})
    proto = TCyBinaryProtocolFactory()  # type: ignore[no-untyped-call]
    received = deserialize(args_cls(), serialize(sent, proto), proto)
    assert received == sent
    assert getattr(getattr(received, "from"), "async") is True


def test_thrift_keywords_as_field_names(tmp_path: Path) -> None:
    catalog = load(
        tmp_path, "struct S { 1: i32 list, 2: string required, 3: bool optional, 4: i64 service }\n"
    )
    assert [f.name for f in catalog.struct("t.S").fields] == ["list", "required", "optional", "service"]


# -- the rest of Apache's grammar ------------------------------------------------------------------------


def test_headers_comments_and_separators(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        """/** file doc */
# a shell comment
// a line comment
cpp_include "<unordered_map>"
namespace * all.of.them
namespace py.twisted tw
namespace cpp a.b /* a block comment */ ;
typedef i32 Int;
const Int ONE = 1;
enum E { A; B, C }
struct S { 1: i32 a; 2: i32 b, } ;
service Svc { void f(1: i32 a; 2: i32 b,); void g() , }
""",
    )
    assert catalog.files[(tmp_path / "t.thrift").resolve()].namespaces == {
        "*": "all.of.them",
        "py.twisted": "tw",
        "cpp": "a.b",
    }
    assert catalog.enum("t.E").values == {"A": 0, "B": 1, "C": 2}
    assert [f.name for f in catalog.struct("t.S").fields] == ["a", "b"]
    assert list(catalog.services["t.Svc"].methods) == ["f", "g"]


def test_implicit_field_ids_count_down_like_apache(tmp_path: Path) -> None:
    catalog = load(
        tmp_path, "struct S { i32 a, 5: i32 b, i32 c, 0: i32 d }\nservice X { void f(i32 x, i32 y) }\n"
    )
    assert [(f.id, f.name) for f in catalog.struct("t.S").fields] == [
        (-1, "a"),
        (5, "b"),
        (-2, "c"),
        (-3, "d"),
    ]
    assert [a.id for a in catalog.services["t.X"].methods["f"].args] == [-1, -2]


def test_requiredness_of_fields_arguments_and_union_members(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        "struct S { 1: required i32 a, 2: optional i32 b, 3: i32 c }\n"
        "union U { 1: i32 a, 2: required string b }\n"
        "service X { void f(1: required i32 a, 2: optional i32 b, 3: i32 c) }\n",
    )
    assert [f.requiredness for f in catalog.struct("t.S").fields] == ["required", "optional", "default"]
    assert [f.requiredness for f in catalog.struct("t.U").fields] == ["optional", "optional"]
    args = catalog.services["t.X"].methods["f"].args
    assert [a.requiredness for a in args] == ["required", "default", "default"]


def test_enum_values_implicit_explicit_hex_negative(tmp_path: Path) -> None:
    catalog = load(tmp_path, "enum E { A, B = 10, C, D = 0x20, E = -3, F }\n")
    assert catalog.enum("t.E").values == {"A": 0, "B": 10, "C": 11, "D": 32, "E": -3, "F": -2}


def test_annotations_everywhere(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        """typedef string Handle (python.type = "str")
enum E { A (x = "1") } (enum.anno = "e", bare)
struct S {
  1: string handle (faker = "user_name", max = 10, ratio = 1.5, ref = other.name)
  2: list<i32> (cpp.template = "std::deque") xs
} (struct.anno = 'single quoted')
exception X { 1: string msg } (ex = "1")
service Svc {
  void f(1: Handle h (arg.anno = "a")) (method.anno = "m")
} (svc.anno = "s", flag)
""",
    )
    handle, xs = catalog.struct("t.S").fields
    assert handle.annotations == {"faker": "user_name", "max": "10", "ratio": "1.5", "ref": "other.name"}
    assert xs.annotations == {}
    assert catalog.struct("t.S").annotations == {"struct.anno": "single quoted"}
    assert catalog.struct("t.X").annotations == {"ex": "1"}
    assert catalog.enum("t.E").annotations == {"enum.anno": "e", "bare": "1"}
    svc = catalog.services["t.Svc"]
    assert svc.annotations == {"svc.anno": "s", "flag": "1"}
    assert svc.methods["f"].annotations == {"method.anno": "m"}
    assert svc.methods["f"].args[0].annotations == {"arg.anno": "a"}


def test_base_types_and_deprecated_spellings(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        "senum Mood { 'happy', 'sad' }\n"
        "struct S { 1: byte a, 2: i8 b, 3: slist c, 4: Mood d, 5: binary e, 6: double f, 7: bool g }\n",
    )
    kinds = [(f.type.kind, f.type.alias) for f in catalog.struct("t.S").fields]
    assert kinds == [
        (Kind.BYTE, None),
        (Kind.BYTE, None),
        (Kind.STRING, None),
        (Kind.STRING, "Mood"),
        (Kind.BINARY, None),
        (Kind.DOUBLE, None),
        (Kind.BOOL, None),
    ]


def test_typedefs_resolve_away_keeping_the_outermost_alias(tmp_path: Path) -> None:
    (tmp_path / "inc.thrift").write_text("typedef i64 Timestamp\nstruct P {}\ntypedef P Person\n")
    catalog = load(
        tmp_path,
        'include "inc.thrift"\ntypedef inc.Timestamp When\n'
        "struct S { 1: When w, 2: list<inc.Timestamp> ts, 3: map<string, inc.Person> people, 4: i64 raw }\n",
    )
    w, ts, people, raw = catalog.struct("t.S").fields
    assert w.type == TypeRef(Kind.I64, alias="When")
    assert ts.type == TypeRef(Kind.LIST, elem=TypeRef(Kind.I64, alias="inc.Timestamp"))
    assert people.type.elem == TypeRef(Kind.STRUCT, name="inc.P", alias="inc.Person")
    assert raw.type == TypeRef(Kind.I64)


def test_container_types_with_cpp_type_and_type_annotations(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        'struct S { 1: map cpp_type "std::unordered_map<int, int>" <i32, i32> m,\n'
        '  2: list<string> cpp_type "std::deque<std::string>" l,\n'
        '  3: set<i32 (x = "y")> (python.immutable = "") s }\n',
    )
    m, lst, s = catalog.struct("t.S").fields
    assert m.type == TypeRef(Kind.MAP, key=TypeRef(Kind.I32), elem=TypeRef(Kind.I32))
    assert lst.type == TypeRef(Kind.LIST, elem=TypeRef(Kind.STRING))
    assert s.type == TypeRef(Kind.SET, elem=TypeRef(Kind.I32))


def test_xsd_options_are_accepted(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        "struct S xsd_all { 1: i32 a xsd_optional xsd_nillable, 2: i32 b xsd_attrs { 1: string attr } }\n",
    )
    assert [f.name for f in catalog.struct("t.S").fields] == ["a", "b"]


def test_constants_become_plain_python_values(tmp_path: Path) -> None:
    (tmp_path / "inc.thrift").write_text("const i32 BASE = 40\nenum Level { LOW = 1, HIGH = 2 }\n")
    catalog = load(
        tmp_path,
        """include "inc.thrift"
struct Point { 1: i32 x, 2: i32 y = 7, 3: optional list<Point> near }
const bool T = 1
const bool F = false
const double D = 1e-3
const double I = 5
const binary B = "raw"
const i32 REF = inc.BASE
const set<i32> SET = [3, 1, 3]
const list<inc.Level> LEVELS = [inc.Level.HIGH, 1]
const map<string, Point> POINTS = {'a': {"x": 1, "near": [{"x": 2}]}}
const Point ORIGIN = {"x": 0, "y": 0}
const Point COPY = ORIGIN
""",
    )
    values = {c.name: c.value for c in catalog.consts.values()}
    assert values["T"] is True
    assert values["F"] is False
    assert values["D"] == pytest.approx(0.001)
    assert values["I"] == 5.0
    assert isinstance(values["I"], float)
    assert values["B"] == b"raw"
    assert values["REF"] == 40
    assert values["SET"] == [3, 1]
    assert values["LEVELS"] == [2, 1]
    assert values["POINTS"] == {"a": {"x": 1, "near": [{"x": 2}]}}
    assert values["ORIGIN"] == {"x": 0, "y": 0}
    assert values["COPY"] == values["ORIGIN"]
    assert values["COPY"] is not values["ORIGIN"]
    assert catalog.struct("t.Point").fields[1].default == 7


def test_struct_defaults_reach_the_payload_classes(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        "struct In { 1: i32 n = 2 }\nstruct Out { 1: In inner = {'n': 5}, 2: list<string> tags = ['a'] }\n",
    )
    classes = Classes(catalog)
    out = classes.struct("t.Out")()
    assert vars(out) == {"inner": classes.struct("t.In")(**{"n": 5}), "tags": ["a"]}


def test_positions_of_fields_and_methods(tmp_path: Path) -> None:
    catalog = load(tmp_path, "struct S {\n  1: i32 a,\n    2: i32 b\n}\nservice X {\n\tvoid go()\n}\n")
    a, b = catalog.struct("t.S").fields
    assert (a.line, a.col, b.line, b.col) == (2, 3, 3, 5)
    assert catalog.struct("t.S").line == 1
    go = catalog.services["t.X"].methods["go"]
    assert (go.line, go.col) == (6, 7)
    assert catalog.services["t.X"].line == 5


def test_oneway_methods(tmp_path: Path) -> None:
    catalog = load(tmp_path, "service S { oneway void log(1: string line) }\n")
    method = catalog.services["t.S"].methods["log"]
    assert method.oneway
    assert method.returns == TypeRef(Kind.VOID)
