"""Every kind of IDL mistake gives an IdlError with a message, the exact line:col, and a useful hint.

And nothing else: random and truncated text never escapes as a Python traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpus import CORPUS
from thriftbox.errors import IdlError, Location
from thriftbox.idl import load_catalog
from thriftbox.idl.parser import parse

FIXTURES = Path(__file__).parent


def error_of(tmp_path: Path, text: str) -> IdlError:
    path = tmp_path / "t.thrift"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IdlError) as info:
        load_catalog([path])
    return info.value


def at(err: IdlError) -> tuple[int, int]:
    assert err.location is not None
    return err.location.line, err.location.col


# (IDL text, words of the message, line, column, words of the hint or None)
CASES = {
    "syntax: missing field name": (
        "struct S {\n  1: i32\n}\n",
        "expected a field name, found '}'",
        3,
        1,
        None,
    ),
    "syntax: missing brace": ("service S\n  void f()\n}\n", "expected '{', found 'void'", 2, 3, None),
    "syntax: stray top-level word": ("strct S {}\n", "expected a definition", 1, 1, None),
    "syntax: bad constant": ("const i32 X = ]\n", "expected a constant value, found ']'", 1, 15, None),
    "syntax: end of file": (
        "enum E {\n  A = 1,\n",
        "expected an enum value name or '}', found end of file",
        3,
        1,
        None,
    ),
    "lexer: unterminated string": (
        'const string S = "abc\n',
        "unterminated string literal",
        1,
        18,
        "same line",
    ),
    "lexer: unterminated comment": ("struct S {}\n  /* never closed\n", "unterminated comment", 2, 3, "*/"),
    "lexer: bad character": ("struct S { 1: i32 a $ }\n", "unexpected character '$'", 1, 21, None),
    "lexer: bad escape": ('const string S = "a\\qb"\n', "bad escape sequence '\\q'", 1, 18, "\\uXXXX"),
    "lexer: lone surrogate": ('const string S = "\\uD83D"\n', "unpaired UTF-16 surrogate", 1, 18, None),
    "keyword as a type name": ("struct list {}\n", "'list' is a Thrift keyword", 1, 8, None),
    "dotted declaration name": ("struct a.b {}\n", "cannot contain '.'", 1, 8, None),
    "unknown type, did you mean": (
        "struct User {}\nstruct S {\n  1: Usr u\n}\n",
        "unknown type 'Usr'",
        3,
        6,
        "did you mean 'User'?",
    ),
    "unknown include prefix": (
        "struct S { 1: shared.Thing t }\n",
        "unknown type 'shared.Thing'",
        1,
        15,
        'add include "shared.thrift"',
    ),
    "a service used as a type": (
        "service Svc {}\nstruct S { 1: Svc s }\n",
        "'Svc' is a service, not a type",
        2,
        15,
        None,
    ),
    "unknown constant": (
        "const i32 LIMIT = 10\nconst i32 X = LIMT\n",
        "unknown constant 'LIMT'",
        2,
        15,
        "did you mean 'LIMIT'?",
    ),
    "unknown enum value": (
        "enum Color { RED, GREEN }\nstruct S { 1: Color c = Color.GREN }\n",
        "unknown value of enum Color 'GREN'",
        2,
        25,
        "did you mean 'GREEN'?",
    ),
    "int that is no enum value": (
        "enum Color { RED = 1 }\nconst Color C = 7\n",
        "7 is not a value of enum Color",
        2,
        17,
        "RED = 1",
    ),
    "enum value of another enum": (
        "enum A { X }\nenum B { Y }\nconst A V = B.Y\n",
        "'B.Y' is a value of enum B, not an A",
        3,
        13,
        None,
    ),
    "const of the wrong type": (
        'const i32 X = "ten"\n',
        "expected an i32 value, found a string",
        1,
        15,
        None,
    ),
    "const out of range": ("const byte B = 300\n", "300 does not fit in byte", 1, 16, "-128..127"),
    "bool other than 0 or 1": ("const bool B = 2\n", "expected a bool value, found an integer", 1, 16, None),
    "bad uuid": ("const uuid U = 'nope'\n", "'nope' is not a uuid", 1, 16, None),
    "unknown struct field in a literal": (
        "struct P { 1: i32 x }\nconst P O = {'y': 1}\n",
        "P has no field 'y'",
        2,
        14,
        "fields: x",
    ),
    "constant of another type": (
        'const string S = "a"\nconst i32 X = S\n',
        "constant 'S' is a string, not an i32",
        2,
        15,
        None,
    ),
    "constant cycle": ("const i32 A = B\nconst i32 B = A\n", "constant 'A' refers to itself", 1, 1, None),
    "typedef cycle": ("typedef A B\ntypedef B A\n", "typedef 'B' refers to itself", 1, 1, None),
    "duplicate type": ("struct S {}\n\nenum S { A }\n", "'S' is already defined at line 1", 3, 1, None),
    "type and service share names": (
        "struct S {}\nservice S {}\n",
        "'S' is already defined at line 1",
        2,
        1,
        None,
    ),
    "duplicate constant": (
        "const i32 A = 1\nconst i32 A = 2\n",
        "constant 'A' is already defined at line 1",
        2,
        1,
        None,
    ),
    "duplicate enum value": (
        "enum E {\n  A,\n  B,\n  A\n}\n",
        "enum value 'A' is defined twice in enum E",
        4,
        3,
        None,
    ),
    "duplicate field name": (
        "struct S {\n  1: i32 a\n  2: i32 a\n}\n",
        "field name 'a' is used twice",
        3,
        10,
        None,
    ),
    "duplicate field id": (
        "struct S {\n  1: i32 a\n  1: i32 b\n}\n",
        "field id 1 is used twice",
        3,
        3,
        "its own id",
    ),
    "duplicate argument": (
        "service X { void f(1: i32 a, 2: i32 a) }\n",
        "field name 'a' is used twice",
        1,
        37,
        None,
    ),
    "duplicate method": (
        "service X {\n  void f()\n  i32 f()\n}\n",
        "method 'f' is defined twice in service X",
        3,
        7,
        None,
    ),
    "field id out of range": (
        "struct S { 40000: i32 a }\n",
        "field id 40000 is out of range",
        1,
        12,
        "1 to 32767",
    ),
    "enum value out of range": ("enum E { A = 0x100000000 }\n", "does not fit in 32 bits", 1, 14, None),
    "extends a struct": (
        "struct Base {}\nservice S extends Base {}\n",
        "service S extends 'Base', which is a struct, not a service",
        2,
        19,
        None,
    ),
    "extends an unknown service": (
        "service Base {}\nservice S extends Bsae {}\n",
        "unknown service 'Bsae'",
        2,
        19,
        "did you mean 'Base'?",
    ),
    "service extends itself": ("service S extends S {}\n", "service 'S' extends itself", 1, 19, None),
    "throws a struct": (
        "struct NotAnError {}\nservice S {\n  void f() throws (1: NotAnError e)\n}\n",
        "throws 'e' of type NotAnError, not an exception",
        3,
        20,
        "only list exceptions",
    ),
    "oneway with throws": (
        "exception E {}\nservice S { oneway void f() throws (1: E e) }\n",
        "oneway method f cannot throw exceptions",
        2,
        25,
        None,
    ),
    "old namespace keyword": (
        "php_namespace foo\n",
        "'php_namespace' is no longer supported",
        1,
        1,
        "namespace",
    ),
    "nesting too deep": (
        "const list<i32> X = " + "[" * 100 + "\n",
        "nesting deeper than 64 levels",
        1,
        85,
        None,
    ),
}


@pytest.mark.parametrize(("text", "message", "line", "col", "hint"), list(CASES.values()), ids=list(CASES))
def test_error_has_message_position_and_hint(
    tmp_path: Path, text: str, message: str, line: int, col: int, hint: str | None
) -> None:
    err = error_of(tmp_path, text)
    assert message in err.message
    assert at(err) == (line, col)
    assert err.location is not None
    assert err.location.path == (tmp_path / "t.thrift").resolve()
    if hint is None:
        return
    assert err.hint is not None
    assert hint in err.hint


# fbthrift syntax is read (tests/idl/test_fbthrift.py); these are its mistakes.
FBTHRIFT = {
    "stream as a field type": (
        "struct S {\n  1: stream<i32> numbers\n}\n",
        "'stream<...>' can only be a method's return type",
        2,
        6,
    ),
    "stream before the response": (
        "service S { stream<i32>, i32 f() }\n",
        "'stream<...>' must come last in a method's return type",
        1,
        13,
    ),
    "interaction as a type": (
        "interaction Counter { i32 next() }\nstruct S { 1: Counter c }\n",
        "'Counter' is an interaction, not a type",
        2,
        15,
    ),
    "unknown performs": (
        "service S {\n  performs Countr;\n}\ninteraction Counter { i32 next() }\n",
        "unknown interaction 'Countr'",
        2,
        12,
    ),
    "performs without separator": (
        "interaction C {}\nservice S { performs C }\n",
        "expected ',' or ';'",
        2,
        24,
    ),
    "fbthrift float": ("struct S { 1: float f }\n", "unknown type 'float'", 1, 15),
    "two responses": ("service S { i32, i32 f() }\n", "too many types before the method name", 1, 13),
    "qualified struct": ("safe struct S {}\n", "expected 'exception'", 1, 6),
    "oneway stream": ("service S { oneway stream<i32> f() }\n", "cannot return a stream", 1, 32),
    "stream of an unknown type": ("service S { stream<Msg> f() }\n", "unknown type 'Msg'", 1, 20),
    "stream throws a struct": (
        "struct E {}\nservice S { stream<i32 throws (1: E e)> f() }\n",
        "throws 'e' of type E, not an exception",
        2,
        32,
    ),
}


@pytest.mark.parametrize(("text", "message", "line", "col"), list(FBTHRIFT.values()), ids=list(FBTHRIFT))
def test_fbthrift_mistakes_are_reported_where_they_are(
    tmp_path: Path, text: str, message: str, line: int, col: int
) -> None:
    err = error_of(tmp_path, text)
    assert message in err.message
    assert at(err) == (line, col)


def test_missing_include_lists_searched_folders_and_suggests_include_dir(tmp_path: Path) -> None:
    extra = tmp_path / "vendor"
    extra.mkdir()
    with pytest.raises(IdlError) as info:
        load_catalog([FIXTURES / "e_missing_include.thrift"], [extra])
    err = info.value
    assert err.message == "included file 'shared/common.thrift' not found"
    assert err.location == Location(FIXTURES / "e_missing_include.thrift", 2, 9)
    assert err.hint is not None
    assert str(FIXTURES) in err.hint
    assert str(extra) in err.hint
    assert "--include-dir" in err.hint


def test_include_cycle_shows_the_cycle() -> None:
    with pytest.raises(IdlError) as info:
        load_catalog([FIXTURES / "e_cycle_a.thrift"])
    err = info.value
    assert err.message == "include cycle: e_cycle_a.thrift -> e_cycle_b.thrift -> e_cycle_a.thrift"
    assert err.location == Location(FIXTURES / "e_cycle_b.thrift", 2, 9)


def test_unknown_type_in_a_fixture_file() -> None:
    with pytest.raises(IdlError) as info:
        load_catalog([FIXTURES / "e_unknown_type.thrift"])
    assert info.value.location is not None
    assert info.value.location.path == FIXTURES / "e_unknown_type.thrift"
    # shown relative to the working directory when the file is below it, as editors link it
    shown = (
        os.path.relpath(FIXTURES / "e_unknown_type.thrift") if FIXTURES.is_relative_to(Path.cwd()) else None
    )
    assert str(info.value) == f"{shown or FIXTURES / 'e_unknown_type.thrift'}:6:3: unknown type 'Usr'"
    assert info.value.hint == "did you mean 'User'?"


@pytest.mark.parametrize(
    "given",
    [
        "http://example.com/a.thrift",
        "https://example.com/idl/",
        "git+ssh://host/repo.thrift",
        "file:///tmp/x.thrift",
    ],
)
def test_urls_are_refused_as_paths(given: str) -> None:
    with pytest.raises(IdlError, match="is a URL") as info:
        load_catalog([given])
    assert info.value.hint is not None
    assert "local copy" in info.value.hint


def test_urls_are_refused_as_includes_and_include_dirs(tmp_path: Path) -> None:
    err = error_of(tmp_path, 'include "https://example.com/shared.thrift"\n')
    assert "is a URL" in err.message
    assert at(err) == (1, 9)
    (tmp_path / "ok.thrift").write_text("struct S {}\n")
    with pytest.raises(IdlError, match=re.escape("include dir 'http://example.com/idl' is a URL")):
        load_catalog([tmp_path / "ok.thrift"], ["http://example.com/idl"])


def test_missing_path_and_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(IdlError, match="no such file or folder"):
        load_catalog([tmp_path / "nope"])
    bad = tmp_path / "latin1.thrift"
    bad.write_bytes(b"struct S {}\n// caf\xe9\n")
    with pytest.raises(IdlError, match="not valid UTF-8") as info:
        load_catalog([bad])
    assert info.value.location == Location(bad.resolve(), 2)


# -- robustness: only IdlError ever escapes --------------------------------------------------------------


def _corpus_texts() -> list[str]:
    files = sorted(CORPUS.rglob("*.thrift")) if CORPUS.is_dir() else sorted(FIXTURES.glob("*.thrift"))
    return [f.read_text(encoding="utf-8") for f in files]


TEXTS = _corpus_texts()
FAKE = Path("/nonexistent/fuzz.thrift")


def _parse_only_idl_errors(text: str) -> None:
    error: IdlError | None = None
    try:
        parse(text, FAKE)
    except IdlError as err:
        error = err
    if error is not None:
        assert error.location is not None
        assert error.location.line >= 1


def test_every_truncation_of_a_corpus_sample_parses_or_raises_idl_error() -> None:
    text = max(TEXTS[:20], key=len)[:6000]
    for end in range(0, len(text), 7):
        _parse_only_idl_errors(text[:end])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.sampled_from(TEXTS),
    start=st.integers(min_value=0, max_value=5000),
    length=st.integers(min_value=0, max_value=3000),
    noise=st.text(alphabet=st.sampled_from(list("{}()<>[]=:;,*&@\"'\\/#-+.0x1eA_ \n\t")), max_size=20),
    cut=st.integers(min_value=0, max_value=3000),
)
def test_mangled_corpus_text_raises_only_idl_error(
    doc: str, start: int, length: int, noise: str, cut: int
) -> None:
    piece = doc[start : start + length]
    _parse_only_idl_errors(piece[:cut] + noise + piece[cut:])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_raises_only_idl_error(text: str) -> None:
    _parse_only_idl_errors(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.sampled_from(TEXTS), cut=st.integers(min_value=0, max_value=20000))
def test_truncated_files_load_or_raise_idl_error(tmp_path: Path, doc: str, cut: int) -> None:
    """The whole pipeline (resolver included) on a file cut short anywhere."""
    path = tmp_path / "cut.thrift"
    path.write_text(doc[:cut], encoding="utf-8")
    error: IdlError | None = None
    try:
        load_catalog([path])
    except IdlError as err:
        error = err
    assert error is None or error.message


def test_absurdly_long_typedef_chain_is_an_idl_error(tmp_path: Path) -> None:
    chain = "".join(f"typedef T{i} T{i + 1}\n" for i in reversed(range(3000)))  # each used before declared
    err = error_of(tmp_path, "typedef i32 T0\n" + chain + "struct S { 1: T3000 t }\n")
    assert "nests too deeply" in err.message


def test_xsd_attrs_nesting_is_bounded(tmp_path: Path) -> None:
    text = "struct S { " + "1: i32 a xsd_attrs { " * 100 + "}" * 101
    assert "nesting deeper than 64 levels" in error_of(tmp_path, text).message
