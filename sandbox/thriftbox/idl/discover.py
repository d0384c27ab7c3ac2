"""Finding .thrift files: expanding the given paths, locating includes, and giving every file a short key."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
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
    """The given paths resolved, and the .thrift files they name: folders recursively, sorted."""
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
    return tuple(roots), list(dict.fromkeys(files))


def include_dirs(dirs: Sequence[Path | str]) -> list[Path]:
    for d in dirs:
        refuse_url(str(d), "include dir")
    return [Path(d).expanduser().resolve() for d in dirs]


def find_include(name: str, including: Path, dirs: Sequence[Path], where: Location) -> Path:
    """The file ``include "name"`` in ``including`` means: its own folder first, then each include dir."""
    refuse_url(name, "include", where)
    candidates = [including.parent, *dirs]
    for folder in candidates:
        path = folder / name
        if path.is_file():
            return path.resolve()
    searched = ", ".join(str(f) for f in candidates)
    raise IdlError(
        f"included file {name!r} not found",
        hint=f"searched {searched}; add the folder that holds it with --include-dir",
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
