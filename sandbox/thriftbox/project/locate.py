"""Where a key of a TOML file is: tomllib gives positions for syntax errors only, so the text is scanned.

Good enough for hand-written configuration: ``[table]`` headers and ``key = value`` lines (dotted and quoted keys
included) are found; keys inside inline tables or multi-line values fall back to the nearest enclosing key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from thriftbox.errors import Location

_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_TABLE = re.compile(rf"^(\s*)\[\s*({_DOTTED})\s*\]")
_KEY = re.compile(rf"^(\s*)({_DOTTED})\s*=\s*")
_SYNTAX = re.compile(r"^(?P<message>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def split_key(dotted: str) -> tuple[str, ...]:
    """``services."users.Users".port`` -> ``("services", "users.Users", "port")``."""
    parts = re.findall(_PART, dotted)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


@dataclass
class Positions:
    """(table..., key...) -> (line, column of the key, column of the value), 1-based."""

    path: Path
    lines: int = 0
    keys: dict[tuple[str, ...], tuple[int, int, int]] = field(default_factory=dict)

    @classmethod
    def scan(cls, path: Path, text: str) -> Positions:
        found = cls(path, lines=text.count("\n") + 1)
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _TABLE.match(line)
            if header is not None and not line.lstrip().startswith("[["):
                table = split_key(header.group(2))
                col = len(header.group(1)) + 2
                found.keys.setdefault(table, (number, col, col))
                continue
            key = _KEY.match(line)
            if key is not None:
                col = len(key.group(1)) + 1
                found.keys.setdefault((*table, *split_key(key.group(2))), (number, col, key.end() + 1))
        return found

    def location(self, keys: tuple[str, ...], *, value: bool = False) -> Location:
        """Where ``keys`` is (its value with ``value``), else the first key below it (``[real.x]`` for
        ``real``), else its nearest enclosing key, else the file."""
        below = sorted(v for k, v in self.keys.items() if k[: len(keys)] == keys)
        if keys not in self.keys and below:
            return Location(self.path, below[0][0], below[0][1])
        for end in range(len(keys), 0, -1):
            hit = self.keys.get(keys[:end])
            if hit is not None:
                line, key_col, value_col = hit
                return Location(self.path, line, value_col if value and end == len(keys) else key_col)
        return Location(self.path)

    def syntax_location(self, message: str) -> tuple[str, Location]:
        """tomllib's ``"Invalid value (at line 3, column 8)"`` -> ``("invalid value", Location)``."""
        match = _SYNTAX.match(message)
        if match is None:
            end = message.removesuffix(" (at end of document)")
            return _lower(end), Location(self.path, self.lines if end != message else 0)
        return _lower(match["message"]), Location(self.path, int(match["line"]), int(match["col"]))


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]
