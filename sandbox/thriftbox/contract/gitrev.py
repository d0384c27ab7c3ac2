"""One side of ``thriftbox breaking``: a folder, or ``REV:folder`` read from git.

``REV:folder`` takes the folder as it was at a git revision (``HEAD~1:idl``, ``main:idl``, ``v1.2:proto``).
The folder is relative to the current directory (or ``repo``), like a plain folder on the other side. Every
.thrift file of the repository at that revision is extracted, so includes that leave the folder still
resolve; the loaded catalog then names its files ``REV:path/in/repo.thrift``, so findings point at them.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from thriftbox.errors import ConfigError
from thriftbox.idl.model import Catalog


def load_side(spec: str, include_dirs: Sequence[Path | str] = (), repo: Path | None = None) -> Catalog:
    """Load a folder, or ``REV:folder`` from the git repository around ``repo`` (default: the cwd).

    Relative folders and include dirs are relative to ``repo``; include dirs inside the repository are read
    at the revision too.
    """
    from thriftbox.idl import load_catalog

    base = (repo or Path.cwd()).resolve()
    path = base / spec
    rev, sep, folder = spec.partition(":")
    if path.exists() or not sep or not rev:
        if not path.exists():
            raise ConfigError(f"no such folder: {spec}", hint="give a folder of .thrift files, or REV:folder")
        return load_catalog([path], [base / d for d in include_dirs])
    not_repo = f"{spec} names a git revision, but {base} is not inside a git repository"
    top = Path(_git(base, "rev-parse", "--show-toplevel", error=not_repo).decode().strip()).resolve()
    commit = _git(
        base,
        "rev-parse",
        "--verify",
        "--quiet",
        f"{rev}^{{commit}}",
        error=f"unknown git revision {rev!r}",
        hint="name a commit, branch or tag, as in HEAD~1:idl or main:idl",
    )
    with tempfile.TemporaryDirectory(prefix="thriftbox-breaking-") as tmp:
        root = Path(tmp).resolve()
        _extract(top, commit.decode().strip(), root)
        inside = _in_repo(top, base / (folder or "."), spec)
        target = root / inside
        if not target.exists():
            raise ConfigError(
                f"{inside or '.'} holds no .thrift files at {rev}",
                hint="check the folder name; it is relative to the current directory",
            )
        mapped = [
            root / _in_repo(top, (base / d), spec) if _within(top, base / d) else d for d in include_dirs
        ]
        catalog = load_catalog([target], mapped)
        return _relocate(catalog, root, rev)


def _git(cwd: Path, *args: str, error: str = "", hint: str | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise ConfigError("git is not installed", hint="install git, or compare two folders") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {done.returncode}"
        raise ConfigError(error or f"git {args[0]} failed: {detail}", hint=hint)
    return done.stdout


def _extract(top: Path, commit: str, dest: Path) -> None:
    """Every .thrift file of the repository at ``commit``, into ``dest``."""
    names = _git(top, "ls-tree", "-r", "--name-only", commit).decode(errors="replace").splitlines()
    if not any(n.endswith(".thrift") for n in names):
        return
    data = _git(top, "archive", "--format=tar", commit, "--", "*.thrift")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")


def _within(top: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(top)


def _in_repo(top: Path, path: Path, spec: str) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(top):
        raise ConfigError(f"{spec}: {resolved} is outside the git repository at {top}")
    return resolved.relative_to(top)


def _relocate(catalog: Catalog, root: Path, rev: str) -> Catalog:
    """Rename every file of a catalog loaded from ``root`` to ``REV:relative/path``."""

    def moved(path: Path) -> Path:
        return Path(f"{rev}:{path.relative_to(root).as_posix()}") if path.is_relative_to(root) else path

    files = {
        moved(p): dataclasses.replace(f, path=moved(f.path), includes=tuple(map(moved, f.includes)))
        for p, f in catalog.files.items()
    }
    return Catalog(
        roots=tuple(map(moved, catalog.roots)),
        files=files,
        structs={q: dataclasses.replace(d, file=moved(d.file)) for q, d in catalog.structs.items()},
        enums={q: dataclasses.replace(d, file=moved(d.file)) for q, d in catalog.enums.items()},
        consts={q: dataclasses.replace(d, file=moved(d.file)) for q, d in catalog.consts.items()},
        services={q: dataclasses.replace(d, file=moved(d.file)) for q, d in catalog.services.items()},
    )
