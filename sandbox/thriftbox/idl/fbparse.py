"""fbthrift's additions to the method grammar: return-type lists with ``stream<>`` and ``sink<>``, ``performs``,
exception qualifiers, and structured annotations written before a definition.

:class:`FbthriftParser` is the base of the definition parser in :mod:`thriftbox.idl.parser`.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from thriftbox.errors import IdlError, Location
from thriftbox.idl.parsebase import TokenParser, at
from thriftbox.idl.syntax import Definition, FieldNode, StreamNode, TypeNode

# fbthrift's exception qualifiers: error_safety error_kind error_blame "exception"
EXCEPTION_QUALIFIERS = frozenset({"safe", "transient", "stateful", "permanent", "client", "server"})


class FbthriftParser(TokenParser):
    """Method-level fbthrift syntax; ``fields`` is the definition parser's."""

    def fields(self, closer: str, *, args: bool, union: bool = False) -> tuple[FieldNode, ...]:
        raise NotImplementedError

    def exception_qualifiers(self) -> None:
        """``safe transient client`` before ``exception``: hints for clients' retries, nothing on the wire."""
        head = self.peek()
        for group in (("safe",), ("transient", "stateful", "permanent"), ("client", "server")):
            if self.at_word(*group):
                self.next()
        if head.value in EXCEPTION_QUALIFIERS and not self.at_word("exception"):
            self.expected(
                "'exception' after fbthrift's 'safe', 'transient', 'stateful', 'permanent', 'client' or 'server'"
            )

    def performs(self, interaction: bool) -> tuple[str, int, int] | None:
        """``performs Name;`` in a service body: (name, line, col); None when the body goes on otherwise."""
        if not (self.at_word("performs") and self.peek(1).kind == "name" and not self.at_sym("(", 2)):
            return None
        start = self.next()
        if interaction:
            self.fail("an interaction cannot perform another interaction", start)
        target = self.word("the name of an interaction")
        if not (self.accept_sym(";") or self.accept_sym(",")):
            self.expected(f"',' or ';' after 'performs {target.value}'")
        return (str(target.value), *at(target))

    def return_type(self) -> tuple[TypeNode | None, TypeNode | None, StreamNode | None]:
        """``void``, a type, or fbthrift's list ``[Interaction,] [Response,] [stream<...> | sink<...>]``:
        (the element before the response, the response (None for void), the stream or sink)."""
        elements: list[TypeNode | StreamNode | None] = []
        first = self.peek()
        while True:
            if self.at_word("void"):
                self.next()
                elements.append(None)
            elif self.at_word("stream", "sink") and self.at_sym("<", 1):
                elements.append(self.stream())
            else:
                elements.append(self.type())
            if not self.accept_sym(","):
                break
        last = elements.pop()
        stream = last if isinstance(last, StreamNode) else None
        if stream is None:
            elements.append(last)
        for e in elements:
            if isinstance(e, StreamNode):
                raise IdlError(
                    f"'{e.kind}<...>' must come last in a method's return type",
                    location=Location(self.path, e.line, e.col),
                )
        plain = [e for e in elements if not isinstance(e, StreamNode)]
        if len(plain) > 2 or (len(plain) == 2 and (plain[0] is None or plain[0].kind != "named")):
            self.fail(
                "too many types before the method name",
                first,
                hint="a method returns at most an interaction, a response and a stream or sink, in that order",
            )
        lead = plain[0] if len(plain) == 2 else None
        returns = plain[-1] if plain else None
        return lead, returns, stream

    def stream(self) -> StreamNode:
        head = self.next()
        self.nest(head)
        self.expect_sym("<")
        elem = self.type()
        throws = self.throws()
        final: TypeNode | None = None
        final_throws: tuple[FieldNode, ...] = ()
        if head.value == "sink":
            self.expect_sym(",")
            final = self.type()
            final_throws = self.throws()
        self.expect_sym(">")
        self.depth -= 1
        kind: Literal["stream", "sink"] = "sink" if head.value == "sink" else "stream"
        return StreamNode(kind, elem, throws, final, final_throws, head.line, head.col)

    def throws(self) -> tuple[FieldNode, ...]:
        if not self.at_word("throws"):
            return ()
        self.next()
        self.expect_sym("(")
        throws = self.fields(")", args=True)
        self.expect_sym(")")
        return throws


def with_attrs(node: Definition, attrs: dict[str, str]) -> Definition:
    """``node`` with the structured annotations written before it added to its annotations."""
    if not attrs or not hasattr(node, "annotations"):
        return node
    merged = {**attrs, **node.annotations}
    return dataclasses.replace(node, annotations=merged)  # type: ignore[arg-type]
