"""Tokens of a Thrift IDL file, with exact 1-based line and column positions.

One compiled regular expression does the scanning. Keywords are not special here: every word is a ``name``
token and the parser decides what a word means where it stands, so that Python keywords (``from``, ``async``)
and even Thrift keywords work as field names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from thriftbox.errors import IdlError, Location

TokenKind = Literal["name", "int", "double", "string", "sym", "eof"]

_TOKEN = re.compile(
    r"""
      (?P<ws>[ \t\r\n\f\v]+)
    | (?P<line_comment>(?://|\#)[^\n]*)
    | (?P<block_comment>/\*.*?\*/)
    | (?P<open_comment>/\*)
    | (?P<hex>[+-]?0[xX][0-9A-Fa-f]+)
    | (?P<double>[+-]?(?:[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+))
    | (?P<int>[+-]?[0-9]+)
    | (?P<name>[A-Za-z_](?:\.?[A-Za-z_0-9])*)
    | (?P<string>"(?:[^"\\\n]|\\[^\n])*"|'(?:[^'\\\n]|\\[^\n])*')
    | (?P<open_string>["'])
    | (?P<sym>[{}()<>\[\]=:;,*&@])
    | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "/": "/",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    value: str | int | float  # the word, the number, the unescaped string, or the symbol
    text: str  # the source text, as written
    line: int
    col: int

    def describe(self) -> str:
        """How the token is named in "expected X, found Y" messages."""
        if self.kind == "eof":
            return "end of file"
        if self.kind == "string":
            return f"string {self.text}"
        return f"'{self.text}'"


def tokenize(text: str, path: Path) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``eof`` token. Raises IdlError on text that is no token."""
    tokens: list[Token] = []
    line, line_start, pos, end = 1, 0, 0, len(text)
    match = _TOKEN.match
    while pos < end:
        m = match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup
        tok = m.group()
        col = pos - line_start + 1
        if kind == "name":
            tokens.append(Token("name", tok, tok, line, col))
        elif kind == "sym":
            tokens.append(Token("sym", tok, tok, line, col))
        elif kind == "int":
            tokens.append(Token("int", int(tok), tok, line, col))
        elif kind == "hex":
            sign = -1 if tok[0] == "-" else 1
            tokens.append(Token("int", sign * int(tok.lstrip("+-")[2:], 16), tok, line, col))
        elif kind == "double":
            tokens.append(Token("double", float(tok), tok, line, col))
        elif kind == "string":
            value = _unescape(tok[1:-1], Location(path, line, col))
            tokens.append(Token("string", value, tok, line, col))
        elif kind in ("ws", "line_comment", "block_comment"):
            newlines = tok.count("\n")
            if newlines:
                line += newlines
                line_start = pos + tok.rindex("\n") + 1
        else:
            _bad_token(kind, tok, Location(path, line, col))
        pos = m.end()
    tokens.append(Token("eof", "", "", line, pos - line_start + 1))
    return tokens


def _bad_token(kind: str | None, tok: str, where: Location) -> None:
    if kind == "open_comment":
        raise IdlError("unterminated comment", hint="close the comment with '*/'", location=where)
    if kind == "open_string":
        raise IdlError(
            "unterminated string literal",
            hint=f"close the string with {tok} on the same line; string literals cannot span lines",
            location=where,
        )
    raise IdlError(f"unexpected character {tok!r}", location=where)


def _unescape(body: str, where: Location) -> str:
    if "\\" not in body:
        return body

    def replace(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] == "u":
            return chr(int(esc[1:], 16))
        if esc in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[esc]
        raise IdlError(
            f"bad escape sequence '\\{esc}' in string literal",
            hint="allowed escapes: \\\\ \\\" \\' \\n \\r \\t \\b \\f \\/ \\uXXXX",
            location=where,
        )

    value = _ESCAPE.sub(replace, body)
    # \uD83D\uDE00 is one character written as a UTF-16 surrogate pair; join such pairs.
    if any("\ud800" <= c <= "\udfff" for c in value):
        try:
            value = value.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise IdlError(
                "unpaired UTF-16 surrogate in \\u escape",
                hint="a \\uD800-\\uDBFF escape must be followed by a \\uDC00-\\uDFFF escape",
                location=where,
            ) from None
    return value
