"""check_value / check_result: what a decoded answer must look like to honour the IDL."""

from __future__ import annotations

from pathlib import Path

import pytest

from thriftbox.contract.check import Problem, check_result, check_value
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, EnumDef, Field, Kind, Method, StructDef, TypeRef

F = Path("users.thrift")
I8, I16, I32, I64 = (TypeRef(k) for k in (Kind.BYTE, Kind.I16, Kind.I32, Kind.I64))
STR, BIN, UUID, DBL, BOOL = (
    TypeRef(k) for k in (Kind.STRING, Kind.BINARY, Kind.UUID, Kind.DOUBLE, Kind.BOOL)
)
STATUS = TypeRef(Kind.ENUM, "users.Status")
ADDRESS = TypeRef(Kind.STRUCT, "users.Address")
USER = TypeRef(Kind.STRUCT, "users.User")
LOOKUP = TypeRef(Kind.STRUCT, "users.Lookup")
NOT_FOUND = TypeRef(Kind.STRUCT, "users.NotFound")


def lst(t: TypeRef) -> TypeRef:
    return TypeRef(Kind.LIST, elem=t)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    cat = Catalog(roots=(F.parent,))
    cat.enums["users.Status"] = EnumDef("users.Status", "Status", {"ACTIVE": 1, "SUSPENDED": 2}, F)
    structs = [
        StructDef("users.Address", "Address", "struct", (Field(1, "city", STR, "required"),), F),
        StructDef(
            "users.User",
            "User",
            "struct",
            (
                Field(1, "id", I64, "required"),
                Field(2, "email", STR, "optional"),
                Field(3, "status", STATUS),
                Field(4, "address", ADDRESS, "optional"),
                Field(5, "tags", TypeRef(Kind.SET, elem=STR), "optional"),
                Field(6, "scores", TypeRef(Kind.MAP, key=STATUS, elem=I32), "optional"),
            ),
            F,
        ),
        StructDef("users.Lookup", "Lookup", "union", (Field(1, "id", I64), Field(2, "email", STR)), F),
        StructDef("users.NotFound", "NotFound", "exception", (Field(1, "message", STR),), F),
    ]
    cat.structs.update({s.qname: s for s in structs})
    return cat


@pytest.fixture(scope="module")
def classes(catalog: Catalog) -> Classes:
    return Classes(catalog)


def method(returns: TypeRef, *throws: Field) -> Method:
    return Method("getUser", (Field(1, "id", I64),), returns, throws, False, "users.UserService")


def user(classes: Classes, **fields: object) -> object:
    return classes.struct("users.User")(**{"id": 1, **fields})


@pytest.mark.parametrize(
    ("t", "value"),
    [
        (I8, -128),
        (I8, 127),
        (I16, 2**15 - 1),
        (I32, -(2**31)),
        (I64, 2**63 - 1),
        (DBL, 1.5),
        (BOOL, False),
        (STR, ""),
        (STR, "東京 🚀"),
        (BIN, b"\x00\xff"),
        (UUID, bytes(16)),
        (STATUS, 2),
        (lst(I32), []),
        (TypeRef(Kind.MAP, key=STR, elem=lst(I8)), {"a": [1, 2], "b": []}),
    ],
)
def test_valid_values_pass(catalog: Catalog, t: TypeRef, value: object) -> None:
    assert check_value(catalog, t, value, "v") == []


@pytest.mark.parametrize(
    ("t", "value", "fragment"),
    [
        (I8, 128, "out of range for byte"),
        (I16, -(2**15) - 1, "out of range for i16"),
        (I32, 2**31, "out of range for i32"),
        (I64, -(2**63) - 1, "out of range for i64"),
        (I32, True, "expected i32, got bool"),
        (I32, "1", "expected i32, got str"),
        (BOOL, 1, "expected bool"),
        (DBL, "1.0", "expected double"),
        (STR, b"\xff\xfe", "not valid UTF-8"),
        (BIN, "text", "expected binary"),
        (UUID, b"\x01" * 15, "uuid (16 bytes)"),
        (lst(I32), {"a": 1}, "expected list<i32>"),
        (lst(I32), None, "no value"),
    ],
)
def test_wrong_values_are_named(catalog: Catalog, t: TypeRef, value: object, fragment: str) -> None:
    problems = check_value(catalog, t, value, "getUser.success.x")
    assert len(problems) == 1
    assert problems[0].path == "getUser.success.x"
    assert fragment in problems[0].message


def test_undeclared_enum_value_names_the_field_and_the_declared_values(
    catalog: Catalog, classes: Classes
) -> None:
    problems = check_value(catalog, USER, user(classes, status=7), "getUser.success")
    assert problems == [
        Problem(
            "getUser.success.status", "undeclared value 7 of enum Status (declared: ACTIVE=1, SUSPENDED=2)"
        )
    ]


def test_missing_required_field_in_a_nested_struct(catalog: Catalog, classes: Classes) -> None:
    address = classes.struct("users.Address")()
    problems = check_value(catalog, USER, user(classes, address=address), "getUser.success")
    assert [p.path for p in problems] == ["getUser.success.address.city"]
    assert "required field 1: city (string) is missing" in problems[0].message


def test_optional_and_default_fields_may_be_absent(catalog: Catalog, classes: Classes) -> None:
    assert check_value(catalog, USER, user(classes), "u") == []


def test_paths_index_into_lists_and_maps(catalog: Catalog, classes: Classes) -> None:
    users = [user(classes), user(classes), user(classes, id=None, scores={9: 1})]
    problems = check_value(catalog, lst(USER), users, "listUsers.success")
    assert {p.path for p in problems} == {"listUsers.success[2].id", "listUsers.success[2].scores[9]"}
    key_problem = next(p for p in problems if p.path.endswith("[9]"))
    assert key_problem.message.startswith("key: undeclared value 9")


def test_a_set_must_not_repeat_elements(catalog: Catalog, classes: Classes) -> None:
    problems = check_value(catalog, USER, user(classes, tags=["a", "b", "a"]), "u")
    assert problems == [Problem("u.tags", "set holds duplicate elements: 'a'")]


def test_a_struct_must_be_a_struct(catalog: Catalog) -> None:
    problems = check_value(catalog, USER, {"id": 1}, "u")
    assert problems == [Problem("u", "expected struct User, got dict")]


@pytest.mark.parametrize(
    ("fields", "fragment"), [({}, "has no field set"), ({"id": 1, "email": "a"}, "2 fields set")]
)
def test_union_arity_is_exactly_one(
    catalog: Catalog, classes: Classes, fields: dict[str, object], fragment: str
) -> None:
    value = classes.struct("users.Lookup")(**fields)
    problems = check_value(catalog, LOOKUP, value, "find.by")
    assert len(problems) == 1
    assert fragment in problems[0].message


def test_a_union_with_one_field_passes(catalog: Catalog, classes: Classes) -> None:
    assert check_value(catalog, LOOKUP, classes.struct("users.Lookup")(email="a@b.c"), "find.by") == []


class TestCheckResult:
    NOT_FOUND_FIELD = Field(1, "notFound", NOT_FOUND)

    def result(self, **fields: object) -> object:
        """A decoded getUser_result: absent outcomes are None."""
        cls = type("getUser_result", (), {"success": None, "notFound": None})
        obj = cls()
        for name, value in fields.items():
            setattr(obj, name, value)
        return obj

    def test_success_is_checked_under_the_method_name(self, catalog: Catalog, classes: Classes) -> None:
        m = method(USER, self.NOT_FOUND_FIELD)
        problems = check_result(catalog, m, self.result(success=user(classes, status=9)))
        assert [p.path for p in problems] == ["getUser.success.status"]

    def test_a_declared_exception_is_a_valid_outcome(self, catalog: Catalog, classes: Classes) -> None:
        m = method(USER, self.NOT_FOUND_FIELD)
        exc = classes.struct("users.NotFound")(message="gone")
        assert check_result(catalog, m, self.result(notFound=exc)) == []

    def test_no_outcome_at_all_is_a_violation(self, catalog: Catalog, classes: Classes) -> None:
        problems = check_result(catalog, method(USER, self.NOT_FOUND_FIELD), self.result())
        assert problems == [Problem("getUser.success", "no result: none of success or notFound is set")]

    def test_void_may_return_nothing(self, catalog: Catalog, classes: Classes) -> None:
        assert check_result(catalog, method(TypeRef(Kind.VOID)), self.result()) == []

    def test_two_outcomes_at_once_are_a_violation(self, catalog: Catalog, classes: Classes) -> None:
        m = method(USER, self.NOT_FOUND_FIELD)
        exc = classes.struct("users.NotFound")(message="gone")
        problems = check_result(catalog, m, self.result(success=user(classes), notFound=exc))
        assert len(problems) == 1
        assert "more than one outcome set (success, notFound)" in problems[0].message
