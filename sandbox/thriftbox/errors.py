"""Every error thriftbox expects carries a message and a hint, and is rendered only at the CLI edge.

ThriftboxError
├── IdlError            a .thrift file does not parse or resolve (path:line:col)
├── StubError           a stub file is malformed or does not fit the IDL (path:line)
├── ConfigError         options that do not fit together, a bad address, an unknown service
├── RuntimeUnavailable  the chosen runtime cannot run here (no Docker engine, ...)
├── PortInUse           a port is already taken
├── MockStartError      a mock did not come up
└── CallError           `thriftbox call` / `verify` could not talk to a server
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where in a source file a problem is: 1-based line and column (0 when unknown)."""

    path: Path
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        parts = [_display(self.path)]
        if self.line:
            parts.append(str(self.line))
            if self.col:
                parts.append(str(self.col))
        return ":".join(parts)

    def source_line(self) -> str | None:
        """The offending line of the file, if it can still be read."""
        if not self.line:
            return None
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None
        return lines[self.line - 1] if 0 < self.line <= len(lines) else None


def _display(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (what editors and terminals link)."""
    try:
        return str(path.relative_to(Path.cwd())) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)


class ThriftboxError(Exception):
    """Base of every error a user may cause. ``str(err)`` is ``location: message``."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class IdlError(ThriftboxError):
    """A .thrift file does not parse, or a name in it does not resolve."""


class StubError(ThriftboxError):
    """A stub file is malformed or does not fit the IDL."""


class ConfigError(ThriftboxError):
    """Options that do not fit together, or name something that does not exist."""

    exit_code = 2


class RuntimeUnavailable(ThriftboxError):
    """The chosen runtime cannot run on this machine."""


class PortInUse(ThriftboxError):
    """A port that a mock needs is already taken."""


class MockStartError(ThriftboxError):
    """A mock did not come up."""


class CallError(ThriftboxError):
    """A Thrift server could not be reached or answered with an error."""
