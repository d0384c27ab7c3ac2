"""What checking one stub file against the IDL needs: the catalog, the file, errors with lines and hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thriftbox.errors import Location, StubError
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog, Kind, TypeRef
from thriftbox.stubs.source import LMap, LSeq
from thriftbox.values.convert import ValueConversionError, from_json


def did_you_mean(name: object, choices: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest of ``choices``, else None."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def listing(what: str, choices: Iterable[str], limit: int = 12) -> str:
    names = sorted(set(choices))
    if not names:
        return f"there are no {what}"
    shown = ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")
    return f"{what}: {shown}"


@dataclass
class Context:
    """Check and convert the values of one stub file."""

    catalog: Catalog
    classes: Classes
    path: Path

    def error(self, message: str, line: int, hint: str | None = None) -> StubError:
        return StubError(message, hint=hint, location=Location(self.path, line))

    def unknown(
        self, what: str, name: object, choices: Iterable[str], line: int, where: str = ""
    ) -> StubError:
        """An error for a name that is not one of ``choices``, with a did-you-mean or the list as hint."""
        options = list(choices)
        head, _, tail = what.partition(" of ")  # "field of User" -> "known fields of User"
        plural = f"{head}s of {tail}" if tail else f"{what}s"
        hint = did_you_mean(name, options) or listing(f"known {plural}", options)
        return self.error(f"unknown {what} {name!r}{where}", line, hint)

    def convert(self, t: TypeRef, obj: Any, line: int, what: str) -> Any:
        """A stub value in JSON form to thriftbox's wire value for ``t``; StubError when it does not fit."""
        try:
            return from_json(self.catalog, self.classes, t, plain(obj), what)
        except ValueConversionError as err:
            hint = _type_hint(t, obj) or err.hint
            raise self.error(f"{err.path}: {err.message}" if err.path else err.message, line, hint) from None

    def type_name(self, t: TypeRef) -> str:
        return str(t)


def plain(obj: Any) -> Any:
    """A value read from a stub file as plain dicts and lists."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    return obj


def _type_hint(t: TypeRef, obj: Any) -> str | None:
    if isinstance(obj, bool) and t.kind in (Kind.STRING, Kind.BINARY):
        return "YAML reads yes/no/on/off/true/false as booleans: quote the value"
    if isinstance(obj, str) and "{{" in obj and t.kind is not Kind.STRING:
        return f"templates only make strings; to copy an argument of type {t} write {{$arg: name}}"
    if isinstance(obj, LMap | LSeq | dict | list) and t.kind in (Kind.STRING, Kind.I32, Kind.I64):
        return f"expected a single {t} value here"
    return None
