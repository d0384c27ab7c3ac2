"""Recursive-descent parser for Apache Thrift IDL: one file's text to a :class:`.syntax.Document`.

The grammar is Apache Thrift's (``thrifty.yy``, 0.17 to 0.22), slightly more lenient: separators and type
annotations are accepted wherever they are harmless, and field and method names may be any word. fbthrift's
additions are read too: ``package``, quoted namespaces, structured ``@annotations``, exception qualifiers
(``safe transient client exception``), method qualifiers (``idempotent``, ``readonly``), ``stream<>`` and
``sink<>`` results, ``interaction`` blocks and ``performs``. Names are not looked up here; that is
:mod:`thriftbox.idl.resolve`'s job.
"""

from __future__ import annotations

import logging
from pathlib import Path

from thriftbox.errors import IdlError, Location
from thriftbox.idl.fbparse import EXCEPTION_QUALIFIERS, FbthriftParser, with_attrs
from thriftbox.idl.lexer import Token
from thriftbox.idl.model import Requiredness, StructKind
from thriftbox.idl.parsebase import at
from thriftbox.idl.syntax import (
    ConstDefNode,
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

_DEFINITIONS = "include, namespace, typedef, const, enum, struct, union, exception or service"
_OLD_NAMESPACES = frozenset({
    "cpp_namespace", "java_package", "csharp_namespace", "delphi_namespace", "php_namespace", "py_module",
    "perl_package", "ruby_namespace", "smalltalk_category", "smalltalk_prefix", "xsd_namespace",
})  # fmt: skip
_I32 = (-(2**31), 2**31 - 1)
_FIELD_IDS = (-(2**15), 2**15 - 1)


def parse(text: str, path: Path) -> Document:
    """Parse the text of the file at ``path``. Raises IdlError, with the position, on any syntax error."""
    return _Parser(text, path).document()


class _Parser(FbthriftParser):
    # -- file level --------------------------------------------------------------------------------------

    def document(self) -> Document:
        doc = Document(self.path)
        while self.peek().kind != "eof":
            if self.accept_sym(",") or self.accept_sym(";"):
                continue
            attrs = self.structured_annotations()
            tok = self.peek()
            if tok.kind != "name":
                self.expected(f"a definition ({_DEFINITIONS})")
            word = tok.value
            if word in ("include", "cpp_include", "hs_include"):
                self.next()
                path = self.expect_string("a quoted file name")
                if word == "include":
                    doc.includes.append(self._include(path))
            elif word == "package" and self.peek(1).kind == "string":
                self.next()
                doc.package = str(self.next().value)
                self.annotations()
            elif word == "namespace":
                self.next()
                self._namespace(doc)
            elif word in ("struct", "union", "exception") or (
                word in EXCEPTION_QUALIFIERS and self.peek(1).kind == "name"
            ):
                doc.definitions.append(with_attrs(self.struct(), attrs))
            elif word == "enum":
                doc.definitions.append(with_attrs(self.enum(), attrs))
            elif word == "senum":
                doc.definitions.append(self.senum())
            elif word == "typedef":
                doc.definitions.append(self.typedef())
            elif word == "const":
                doc.definitions.append(self.const())
            elif word in ("service", "interaction"):
                doc.definitions.append(with_attrs(self.service(), attrs))
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
        value = (
            self.next() if self.peek().kind == "string" else self.word("a namespace name")
        )  # fbthrift quotes
        doc.namespaces[str(scope.value)] = str(value.value)
        self.annotations()  # Apache accepts and keeps them; nothing in thriftbox uses them

    # -- definitions -------------------------------------------------------------------------------------

    def struct(self) -> StructNode:
        head = self.peek()
        self.exception_qualifiers()
        word = self.next().value
        kind: StructKind = "exception" if word == "exception" else word  # type: ignore[assignment]
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
            self.structured_annotations()
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
            str(name.value), TypeNode("base", "string", line=head.line, col=head.col), *at(head)
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
        """A service, or fbthrift's interaction (the same body, without ``extends`` and ``performs``)."""
        head = self.next()
        interaction = head.value == "interaction"
        what = "interaction" if interaction else "service"
        name = self.decl_name(f"{what} name")
        parent: Token | None = None
        if not interaction and self.at_word("extends"):
            self.next()
            parent = self.word("the name of the service to extend")
        self.expect_sym("{")
        functions: list[FunctionNode] = []
        performs: list[tuple[str, int, int]] = []
        seen: set[str] = set()
        while not self.accept_sym("}"):
            performed = self.performs(interaction)
            if performed is not None:
                performs.append(performed)
                continue
            fn = self.function()
            if fn.name in seen:
                where = Location(self.path, fn.line, fn.col)
                raise IdlError(f"method '{fn.name}' is defined twice in {what} {name.value}", location=where)
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
            *(at(parent) if parent else (0, 0)),
            interaction=interaction,
            performs=tuple(performs),
        )

    def function(self) -> FunctionNode:
        attrs = self.structured_annotations()
        oneway = False
        # "async" is the pre-0.9 spelling of "oneway", unless it is the return type: "async f(...)".
        if self.at_word("oneway") or (self.at_word("async") and not self.at_sym("(", 2)):
            self.next()
            oneway = True
        elif self.at_word("readonly", "idempotent") and not self.at_sym("(", 2):
            self.next()  # fbthrift's qualifiers: hints for retries and caches, nothing on the wire
        if self.peek().kind != "name":
            self.expected("a method (return type, name and arguments) or '}'")
        lead, returns, stream = self.return_type()
        name = self.word("a method name")
        self.simple(name, "a method name")
        self.expect_sym("(")
        args = self.fields(")", args=True)
        self.expect_sym(")")
        throws = self.throws()
        annotations = {**attrs, **self.annotations()}
        self.separator()
        if oneway and stream is not None:
            self.fail(f"oneway method {name.value} cannot return a {stream.kind}", name)
        return FunctionNode(
            str(name.value), oneway, returns, args, throws, annotations, name.line, name.col, lead, stream
        )

    # -- fields ------------------------------------------------------------------------------------------

    def fields(self, closer: str, *, args: bool, union: bool = False) -> tuple[FieldNode, ...]:
        fields: list[FieldNode] = []
        names: set[str] = set()
        ids: set[int] = set()
        auto = -1
        while not self.at_sym(closer):
            attrs = self.structured_annotations()
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
            if attrs:
                annotations = {**attrs, **annotations}
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
            node = FieldNode(fid, str(name.value), ftype, requiredness, default, annotations, *at(start))
            fields.append(node)
        return tuple(fields)

    def _xsd_options(self) -> None:
        for word in ("xsd_optional", "xsd_nillable"):
            if self.at_word(word):
                self.next()
        if self.at_word("xsd_attrs"):
            self.nest(self.next())
            self.expect_sym("{")
            self.fields("}", args=False)
            self.expect_sym("}")
            self.depth -= 1
