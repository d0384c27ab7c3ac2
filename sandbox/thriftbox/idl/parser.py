"""Recursive-descent parser for Apache Thrift IDL: one file's text to a :class:`.syntax.Document`.

The grammar is Apache Thrift's (``thrifty.yy``, 0.17 to 0.22), slightly more lenient: separators and type
annotations are accepted wherever they are harmless, and field and method names may be any word. Names are
not looked up here; that is :mod:`thriftbox.idl.resolve`'s job.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NoReturn

from thriftbox.errors import IdlError, Location
from thriftbox.idl.lexer import FBTHRIFT_HINT, Token, tokenize
from thriftbox.idl.model import Requiredness, StructKind
from thriftbox.idl.syntax import (
    ConstDefNode,
    ConstNode,
    Document,
    EnumNode,
    EnumValueNode,
    FieldNode,
    FunctionNode,
    IncludeNode,
    ServiceNode,
    StructNode,
    TypedefNode,
    TypeNode,
)

log = logging.getLogger(__name__)

BASE_TYPES = frozenset(
    {"bool", "byte", "i8", "i16", "i32", "i64", "double", "string", "binary", "uuid", "slist"}
)
KEYWORDS = BASE_TYPES | {
    "include", "cpp_include", "namespace", "typedef", "const", "enum", "senum", "struct", "union",
    "exception", "service", "extends", "throws", "oneway", "void", "required", "optional", "map", "list",
    "set", "cpp_type", "xsd_all", "xsd_optional", "xsd_nillable", "xsd_attrs", "true", "false",
}  # fmt: skip
_DEFINITIONS = "include, namespace, typedef, const, enum, struct, union, exception or service"
_FBTHRIFT_WORDS = frozenset(
    {"package", "interaction", "safe", "transient", "stateful", "permanent", "server"}
)
_OLD_NAMESPACES = frozenset({
    "cpp_namespace", "java_package", "csharp_namespace", "delphi_namespace", "php_namespace", "py_module",
    "perl_package", "ruby_namespace", "smalltalk_category", "smalltalk_prefix", "xsd_namespace",
})  # fmt: skip
_MAX_DEPTH = 64
_I32 = (-(2**31), 2**31 - 1)
_FIELD_IDS = (-(2**15), 2**15 - 1)


def parse(text: str, path: Path) -> Document:
    """Parse the text of the file at ``path``. Raises IdlError, with the position, on any syntax error."""
    return _Parser(text, path).document()


class _Parser:
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

    # -- file level --------------------------------------------------------------------------------------

    def document(self) -> Document:
        doc = Document(self.path)
        while (tok := self.peek()).kind != "eof":
            if self.accept_sym(",") or self.accept_sym(";"):
                continue
            if tok.kind != "name":
                self.expected(f"a definition ({_DEFINITIONS})")
            word = tok.value
            if word in ("include", "cpp_include"):
                self.next()
                path = self.expect_string("a quoted file name")
                if word == "include":
                    doc.includes.append(self._include(path))
            elif word == "namespace":
                self.next()
                self._namespace(doc)
            elif word in ("struct", "union", "exception"):
                doc.definitions.append(self.struct())
            elif word == "enum":
                doc.definitions.append(self.enum())
            elif word == "senum":
                doc.definitions.append(self.senum())
            elif word == "typedef":
                doc.definitions.append(self.typedef())
            elif word == "const":
                doc.definitions.append(self.const())
            elif word == "service":
                doc.definitions.append(self.service())
            elif word in _FBTHRIFT_WORDS and self.peek(1).kind in ("name", "string"):
                self.fail(f"'{word}' is not Apache Thrift syntax", tok, hint=FBTHRIFT_HINT)
            elif word in _OLD_NAMESPACES:
                self.fail(f"'{word}' is no longer supported", tok, hint="write 'namespace <language> <name>'")
            else:
                self.expected(f"a definition ({_DEFINITIONS})")
        return doc

    def _include(self, tok: Token) -> IncludeNode:
        return IncludeNode(str(tok.value), tok.line, tok.col)

    def _namespace(self, doc: Document) -> None:
        if self.peek().kind != "name" and not self.at_sym("*"):
            self.expected("a namespace scope (a language name or '*')")
        scope = self.next()
        value = self.peek()
        if value.kind == "string":
            self.fail("quoted namespace values are not Apache Thrift syntax", value, hint=FBTHRIFT_HINT)
        value = self.word("a namespace name")
        doc.namespaces[str(scope.value)] = str(value.value)
        self.annotations()  # Apache accepts and keeps them; nothing in thriftbox uses them

    # -- definitions -------------------------------------------------------------------------------------

    def struct(self) -> StructNode:
        head = self.next()
        kind: StructKind = "exception" if head.value == "exception" else head.value  # type: ignore[assignment]
        name = self.decl_name(f"{kind} name")
        if kind != "exception" and self.at_word("xsd_all"):
            self.next()
        self.expect_sym("{")
        fields = self.fields("}", args=False, union=kind == "union")
        self.expect_sym("}")
        return StructNode(kind, str(name.value), fields, self.annotations(), head.line, head.col)

    def enum(self) -> EnumNode:
        head = self.next()
        name = self.decl_name("enum name")
        self.expect_sym("{")
        values: list[EnumValueNode] = []
        seen: set[str] = set()
        last = -1
        while not self.accept_sym("}"):
            tok = self.word("an enum value name or '}'")
            self.simple(tok, "an enum value name")
            if self.accept_sym("="):
                num = self.peek()
                if num.kind != "int":
                    self.expected("an integer enum value")
                self.next()
                last = int(num.value)
                if not _I32[0] <= last <= _I32[1]:
                    self.fail(f"enum value {num.text} does not fit in 32 bits", num)
            else:
                last += 1
            if tok.value in seen:
                self.fail(f"enum value '{tok.value}' is defined twice in enum {name.value}", tok)
            seen.add(str(tok.value))
            values.append(EnumValueNode(str(tok.value), last, tok.line, tok.col))
            self.annotations()
            self.separator()
        return EnumNode(str(name.value), tuple(values), self.annotations(), head.line, head.col)

    def senum(self) -> TypedefNode:
        """``senum`` (long deprecated) is a string type with listed values; thriftbox reads a string."""
        head = self.next()
        name = self.decl_name("senum name")
        self.expect_sym("{")
        while not self.accept_sym("}"):
            self.expect_string("a quoted senum value or '}'")
            self.separator()
        self.annotations()
        return TypedefNode(
            str(name.value), TypeNode("base", "string", line=head.line, col=head.col), *_at(head)
        )

    def typedef(self) -> TypedefNode:
        head = self.next()
        target = self.type()
        name = self.decl_name("typedef name")
        self.annotations()
        self.separator()
        return TypedefNode(str(name.value), target, head.line, head.col)

    def const(self) -> ConstDefNode:
        head = self.next()
        ctype = self.type()
        name = self.decl_name("constant name")
        self.expect_sym("=")
        value = self.const_value()
        self.separator()
        return ConstDefNode(str(name.value), ctype, value, head.line, head.col)

    def service(self) -> ServiceNode:
        head = self.next()
        name = self.decl_name("service name")
        parent: Token | None = None
        if self.at_word("extends"):
            self.next()
            parent = self.word("the name of the service to extend")
        self.expect_sym("{")
        functions: list[FunctionNode] = []
        seen: set[str] = set()
        while not self.accept_sym("}"):
            fn = self.function()
            if fn.name in seen:
                where = Location(self.path, fn.line, fn.col)
                raise IdlError(f"method '{fn.name}' is defined twice in service {name.value}", location=where)
            seen.add(fn.name)
            functions.append(fn)
        annotations = self.annotations()
        return ServiceNode(
            str(name.value),
            None if parent is None else str(parent.value),
            tuple(functions),
            annotations,
            head.line,
            head.col,
            *(_at(parent) if parent else (0, 0)),
        )

    def function(self) -> FunctionNode:
        start = self.peek()
        oneway = False
        # "async" is the pre-0.9 spelling of "oneway", unless it is the return type: "async f(...)".
        if self.at_word("oneway") or (self.at_word("async") and not self.at_sym("(", 2)):
            self.next()
            oneway = True
        elif self.at_word("readonly", "idempotent", "performs") and self.peek(1).kind == "name":
            self.fail(f"'{start.value}' is not Apache Thrift syntax", start, hint=FBTHRIFT_HINT)
        if self.peek().kind != "name":
            self.expected("a method (return type, name and arguments) or '}'")
        returns: TypeNode | None = None
        if self.at_word("void"):
            self.next()
        else:
            returns = self.type()
        name = self.word("a method name")
        self.simple(name, "a method name")
        self.expect_sym("(")
        args = self.fields(")", args=True)
        self.expect_sym(")")
        throws: tuple[FieldNode, ...] = ()
        if self.at_word("throws"):
            self.next()
            self.expect_sym("(")
            throws = self.fields(")", args=True)
            self.expect_sym(")")
        annotations = self.annotations()
        self.separator()
        return FunctionNode(str(name.value), oneway, returns, args, throws, annotations, name.line, name.col)

    # -- fields ------------------------------------------------------------------------------------------

    def fields(self, closer: str, *, args: bool, union: bool = False) -> tuple[FieldNode, ...]:
        fields: list[FieldNode] = []
        names: set[str] = set()
        ids: set[int] = set()
        auto = -1
        while not self.at_sym(closer):
            start = self.peek()
            fid: int | None = None
            if start.kind == "int" and self.at_sym(":", 1):
                fid = int(start.value)
                self.i += 2
                if not _FIELD_IDS[0] <= fid <= _FIELD_IDS[1]:
                    self.fail(f"field id {fid} is out of range", start, hint="field ids go from 1 to 32767")
                if fid <= 0:
                    log.warning(
                        "%s:%d: non-positive field id %d, assigning %d", self.path, start.line, fid, auto
                    )
                    fid = None
            if fid is None:
                fid, auto = auto, auto - 1
            requiredness: Requiredness = "default"
            if self.at_word("required", "optional"):
                requiredness = self.next().value  # type: ignore[assignment]
            ftype = self.type()
            self.accept_sym("&")  # C++ reference marker: nothing to do on the wire
            name = self.word("a field name")
            self.simple(name, "a field name")
            default = self.const_value() if self.accept_sym("=") else None
            self._xsd_options()
            annotations = self.annotations()
            self.separator()
            if name.value in names:
                self.fail(f"field name '{name.value}' is used twice", name)
            if fid in ids:
                self.fail(f"field id {fid} is used twice", start, hint="every field needs its own id")
            names.add(str(name.value))
            ids.add(fid)
            if union:
                requiredness = "optional"  # Apache: "union members must be optional"
            elif args and requiredness == "optional":
                requiredness = "default"  # Apache: "optional keyword is ignored in argument lists"
            fields.append(
                FieldNode(
                    fid,
                    str(name.value),
                    ftype,
                    requiredness,
                    default,
                    annotations,
                    *_at(start),
                    start.kind == "int",
                )
            )
        return tuple(fields)

    def _xsd_options(self) -> None:
        for word in ("xsd_optional", "xsd_nillable"):
            if self.at_word(word):
                self.next()
        if self.at_word("xsd_attrs"):
            self.next()
            self.expect_sym("{")
            self.fields("}", args=False)
            self.expect_sym("}")

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
            self.fail(f"'{word}<...>' is not Apache Thrift syntax", tok, hint=FBTHRIFT_HINT)
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


def _at(tok: Token) -> tuple[int, int]:
    return tok.line, tok.col
