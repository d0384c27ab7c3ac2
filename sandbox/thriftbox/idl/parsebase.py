"""The token-level half of the Thrift parser: token helpers, types, constant values and annotations.

fbthrift's additions at this level are read too: ``Name{field = value}`` struct constants and structured
annotations (``@cpp.Adapter{name = "x"}``, ``@thrift.Experimental``).

:class:`TokenParser` is the base of the definition parser in :mod:`thriftbox.idl.parser`.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from thriftbox.errors import IdlError, Location
from thriftbox.idl.lexer import Token, tokenize
from thriftbox.idl.syntax import ConstNode, TypeNode

BASE_TYPES = frozenset(
    {"bool", "byte", "i8", "i16", "i32", "i64", "double", "string", "binary", "uuid", "slist"}
)
KEYWORDS = BASE_TYPES | {
    "include", "cpp_include", "namespace", "typedef", "const", "enum", "senum", "struct", "union",
    "exception", "service", "extends", "throws", "oneway", "void", "required", "optional", "map", "list",
    "set", "cpp_type", "xsd_all", "xsd_optional", "xsd_nillable", "xsd_attrs", "true", "false",
}  # fmt: skip
_MAX_DEPTH = 64


class TokenParser:
    """Walks the token list of one file; raises IdlError at the offending token."""

    def __init__(self, text: str, path: Path) -> None:
        self.path = path
        self.toks = tokenize(text, path)
        self.i = 0
        self.depth = 0

    # -- token helpers -----------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def next(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at_sym(self, sym: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "sym" and tok.value == sym

    def at_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.value in words

    def accept_sym(self, sym: str) -> bool:
        if self.at_sym(sym):
            self.i += 1
            return True
        return False

    def fail(self, message: str, tok: Token, hint: str | None = None) -> NoReturn:
        raise IdlError(message, hint=hint, location=Location(self.path, tok.line, tok.col))

    def expected(self, what: str, hint: str | None = None) -> NoReturn:
        tok = self.peek()
        self.fail(f"expected {what}, found {tok.describe()}", tok, hint)

    def expect_sym(self, sym: str) -> Token:
        if not self.at_sym(sym):
            self.expected(f"'{sym}'")
        return self.next()

    def expect_string(self, what: str) -> Token:
        if self.peek().kind != "string":
            self.expected(what)
        return self.next()

    def word(self, what: str) -> Token:
        """Any word: a field, method, enum value or annotation name."""
        if self.peek().kind != "name":
            self.expected(what)
        return self.next()

    def decl_name(self, what: str) -> Token:
        """The name of a declaration: a word that is no keyword and has no dot."""
        tok = self.word(what)
        if tok.value in KEYWORDS:
            self.fail(f"'{tok.value}' is a Thrift keyword and cannot be used as {what}", tok)
        self.simple(tok, what)
        return tok

    def simple(self, tok: Token, what: str) -> None:
        if "." in str(tok.value):
            self.fail(f"{what} cannot contain '.': '{tok.value}'", tok)

    def separator(self) -> None:
        if self.at_sym(",") or self.at_sym(";"):
            self.i += 1

    def nest(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.fail(f"nesting deeper than {_MAX_DEPTH} levels", tok)

    # -- types, constants, annotations -------------------------------------------------------------------

    def type(self) -> TypeNode:
        tok = self.peek()
        if tok.kind != "name":
            self.expected("a type")
        self.next()
        word = str(tok.value)
        if word in BASE_TYPES:
            node = TypeNode("base", word, line=tok.line, col=tok.col)
        elif word in ("map", "set", "list"):
            self.nest(tok)
            self._cpp_type()
            self.expect_sym("<")
            args = [self.type()]
            if word == "map":
                self.expect_sym(",")
                args.append(self.type())
            self.expect_sym(">")
            if word == "list":
                self._cpp_type()
            self.depth -= 1
            node = TypeNode(word, args=tuple(args), line=tok.line, col=tok.col)  # type: ignore[arg-type]
        elif word in ("stream", "sink") and self.at_sym("<"):
            self.fail(
                f"'{word}<...>' can only be a method's return type",
                tok,
                hint=f"fbthrift's {word}s are method results: '{word}<...> method(...)'",
            )
        elif word in KEYWORDS:
            self.fail(f"expected a type, found keyword '{word}'", tok)
        else:
            node = TypeNode("named", word, line=tok.line, col=tok.col)
        self.annotations()  # annotations on a type (cpp.template, python.immutable): not kept
        return node

    def _cpp_type(self) -> None:
        if self.at_word("cpp_type"):
            self.next()
            self.expect_string("a quoted C++ type")

    def const_value(self) -> ConstNode:
        tok = self.peek()
        if tok.kind in ("int", "double", "string"):
            self.next()
            return ConstNode(tok.kind, tok.value, tok.line, tok.col)
        if tok.kind == "name":
            self.next()
            if tok.value in ("true", "false"):
                return ConstNode("int", int(tok.value == "true"), tok.line, tok.col)
            if self.at_sym("{"):  # fbthrift's struct literal: Name{field = value, ...}
                self.nest(tok)
                self.next()
                node = self._const_struct(tok)
                self.depth -= 1
                return node
            return ConstNode("ident", tok.value, tok.line, tok.col)
        if self.at_sym("[") or self.at_sym("{"):
            self.nest(tok)
            self.next()
            node = self._const_list(tok) if tok.value == "[" else self._const_map(tok)
            self.depth -= 1
            return node
        self.expected("a constant value")

    def _const_list(self, start: Token) -> ConstNode:
        items: list[ConstNode] = []
        while not self.accept_sym("]"):
            items.append(self.const_value())
            self.separator()
        return ConstNode("list", tuple(items), start.line, start.col)

    def _const_map(self, start: Token) -> ConstNode:
        items: list[tuple[ConstNode, ConstNode]] = []
        while not self.accept_sym("}"):
            key = self.const_value()
            self.expect_sym(":")
            items.append((key, self.const_value()))
            self.separator()
        return ConstNode("map", tuple(items), start.line, start.col)

    def _const_struct(self, start: Token) -> ConstNode:
        """The body of ``Name{field = value, ...}``, as the map ``{"field": value}`` Apache would write."""
        items: list[tuple[ConstNode, ConstNode]] = []
        while not self.accept_sym("}"):
            key = self.word("a field name or '}'")
            self.expect_sym("=")
            items.append((ConstNode("string", key.value, key.line, key.col), self.const_value()))
            self.separator()
        return ConstNode("map", tuple(items), start.line, start.col)

    def structured_annotations(self) -> dict[str, str]:
        """fbthrift's ``@Name`` and ``@Name{field = value}`` before a definition, field, enum value or method.

        Kept as ``"@Name"``: the body's source text (``""`` without one). Their meaning (C++ adapters, Hack
        attributes) is for code generators, not for a mock.
        """
        if self.toks[self.i].value != "@":  # the usual case, on every field: keep it cheap
            return {}
        annotations: dict[str, str] = {}
        while self.at_sym("@"):
            self.next()
            name = self.word("an annotation name after '@'")
            start = self.i
            if self.at_sym("{"):
                self.nest(name)
                self.next()
                self._const_struct(name)
                self.depth -= 1
            annotations[f"@{name.value}"] = " ".join(t.text for t in self.toks[start : self.i])
        return annotations

    def annotations(self) -> dict[str, str]:
        """``(key = "value", bare, k = 1)``: bare keys get "1", other values their source text."""
        annotations: dict[str, str] = {}
        if not self.accept_sym("("):
            return annotations
        while not self.accept_sym(")"):
            key = self.word("an annotation name or ')'")
            value = "1"
            if self.accept_sym("="):
                tok = self.peek()
                if tok.kind not in ("string", "int", "double", "name"):
                    self.expected("an annotation value")
                self.next()
                value = str(tok.value) if tok.kind == "string" else tok.text
            annotations[str(key.value)] = value
            self.separator()
        return annotations


def at(tok: Token) -> tuple[int, int]:
    """A token's (line, column)."""
    return tok.line, tok.col
