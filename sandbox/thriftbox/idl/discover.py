"""Finding .thrift files: expanding the given paths, locating includes, and giving every file a short key.

Which files may be read: the ``.thrift`` files under the paths given, and what they include. An include may
name a file that is not ``.thrift`` (Apache's compiler reads any name) only inside the folders given (the IDL
folders, the folders of the IDL files, the include dirs), so that ``include "../../etc/passwd"`` is refused
unread; and no error shows a line, or a token, of a file that is not ``.thrift``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from thriftbox.errors import IdlError, Location

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(text: str) -> bool:
    return bool(_URL.match(text))


def refuse_url(text: str, what: str, location: Location | None = None) -> None:
    if is_url(text):
        raise IdlError(
            f"{what} {text!r} is a URL; thriftbox only reads local files",
            hint="download the file and point thriftbox at the local copy",
            location=location,
        )


def expand(paths: Sequence[Path | str]) -> tuple[tuple[Path, ...], list[Path]]:
    """The given paths resolved, and the .thrift files they name: folders recursively, sorted. Raises
    IdlError when there is none at all (every command then says so, rather than serving nothing)."""
    roots: list[Path] = []
    files: list[Path] = []
    for given in paths:
        refuse_url(str(given), "path")
        root = Path(given).expanduser().resolve()
        roots.append(root)
        if root.is_dir():
            files.extend(sorted(p.resolve() for p in root.rglob("*.thrift") if p.is_file()))
        elif root.is_file():
            files.append(root)
        else:
            raise IdlError(f"no such file or folder: {given}", hint="check the path")
    if not files and paths:
        raise IdlError(
            "no .thrift files found in " + ", ".join(str(p) for p in paths),
            hint="thriftbox reads the *.thrift files under the folders given (recursively) and the files named",
        )
    return tuple(roots), list(dict.fromkeys(files))


def allowed_folders(roots: Sequence[Path], dirs: Sequence[Path]) -> list[Path]:
    """The folders an include of a file that is not .thrift may name: the folders given, the folders of the
    files given, the include dirs (all resolved)."""
    return list(dict.fromkeys([*(r if r.is_dir() else r.parent for r in roots), *dirs]))


def is_thrift(path: Path) -> bool:
    return path.suffix.lower() == ".thrift"


@dataclass(frozen=True)
class UnquotedLocation(Location):
    """The place of a problem in a file that is not .thrift: rendered as ``path:line:col``, never quoted."""

    def source_line(self) -> str | None:
        return None


def unquoted(error: IdlError, *, parsing: bool = False) -> IdlError:
    """``error``, pointing into a file that is not .thrift without quoting it. A syntax error (``parsing``)
    gets a message of its own: it would repeat the token found, which is content of the file."""
    loc = error.location
    if loc is None or is_thrift(loc.path) or isinstance(loc, UnquotedLocation):
        return error
    if not parsing:
        return IdlError(
            error.message, hint=error.hint, location=UnquotedLocation(loc.path, loc.line, loc.col)
        )
    return IdlError(
        "syntax error in a file that is not a .thrift file (its content is not shown)",
        hint="thriftbox reads Thrift IDL: check the path or include that names this file; "
        "if it is IDL, name it .thrift to see the whole error",
        location=UnquotedLocation(loc.path, loc.line, loc.col),
    )


def include_dirs(dirs: Sequence[Path | str]) -> list[Path]:
    for d in dirs:
        refuse_url(str(d), "include dir")
    return [Path(d).expanduser().resolve() for d in dirs]


def find_include(
    name: str, including: Path, dirs: Sequence[Path], allowed: Sequence[Path], where: Location
) -> Path:
    """The file ``include "name"`` in ``including`` means: its own folder first, then each include dir.

    A candidate that is not a .thrift file (after symbolic links) must lie in one of the ``allowed`` folders;
    one that does not is refused before anything is read, or even looked for."""
    refuse_url(name, "include", where)
    candidates = [including.parent, *dirs]
    for folder in candidates:
        path = folder / name
        if not _may_read(Path(os.path.normpath(path)), allowed):  # before looking: no probing outside
            raise _leaves(name, where)
        if path.is_file():
            real = path.resolve()
            if not _may_read(real, allowed):  # a symbolic link may lead anywhere
                raise _leaves(name, where)
            return real
    searched = ", ".join(str(f) for f in candidates)
    raise IdlError(
        f"included file {name!r} not found",
        hint=f"searched {searched}; add the folder that holds it with --include-dir",
        location=where,
    )


def _may_read(path: Path, allowed: Sequence[Path]) -> bool:
    return is_thrift(path) or any(path.is_relative_to(a) for a in allowed)


def _leaves(name: str, where: Location) -> IdlError:
    return IdlError(
        f"include {name!r} leaves the folders given and is not a .thrift file",
        hint="outside the IDL folders and --include-dir folders, thriftbox includes only .thrift files; "
        "if it is Thrift IDL, name it .thrift, or pass the folder that holds it with --include-dir",
        location=where,
    )


def file_keys(paths: Iterable[Path]) -> dict[Path, str]:
    """Each file's stem, with as many parent folders as it takes to be unique among ``paths``.

    Depends only on the set of paths, so it is the same on every run: three ``fb303.thrift`` files in
    ``a/if``, ``b/interface`` and ``c`` get the keys ``if/fb303``, ``interface/fb303`` and ``c/fb303``.
    """
    comps = {p: (*p.parent.parts[1:], p.stem) for p in set(paths)}
    keys: dict[Path, str] = {}
    pending = set(comps)
    depth = 1
    while pending:
        counts = Counter(c[-depth:] for c in comps.values())
        for p in sorted(pending):
            suffix = comps[p][-depth:]
            if counts[suffix] == 1 or depth >= len(comps[p]):
                keys[p] = "/".join(suffix)
                pending.discard(p)
        depth += 1
    return keys
