"""The wheels a mock image installs from, prepared on this machine so the image build needs no network.

The container's Python is asked once (:data:`PYTHON_PROBE`, run in the base image). When its version and
platform match this interpreter, ``pip wheel`` runs here: wheels come from the index or pip's cache, sdists are
built here with their C extensions (thriftpy2's Cython codec included). Otherwise ``pip download
--only-binary=:all:`` fetches wheels for the container's interpreter and platform; a dependency without such a
wheel fails the build with a hint. There is no pure-Python fallback for thriftpy2 0.7.1: its ``setup.py``
cythonizes unconditionally and ``thriftpy2._compat`` imports the extensions on every CPython.

Wheelhouses are cached under ``~/.cache/thriftbox/wheelhouse/<key>``; the key covers the pinned requirements and
the target interpreter, so a new dependency or base image gets a new wheelhouse.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from thriftbox import about
from thriftbox.errors import MockStartError

Progress = Callable[[str], None]

# Run with the base image's python3; prints one JSON object describing the interpreter.
PYTHON_PROBE = (
    "import json, platform, sys, sysconfig\n"
    "try:\n    import pip; pip_version = pip.__version__\nexcept ImportError:\n    pip_version = None\n"
    "libc, libc_version = platform.libc_ver()\n"
    "if 'musl' in (sysconfig.get_config_var('HOST_GNU_TYPE') or ''): libc = 'musl'\n"
    "print(json.dumps({'version': list(sys.version_info[:2]), 'full': platform.python_version(),\n"
    "    'implementation': sys.implementation.name, 'machine': platform.machine(), 'libc': libc,\n"
    "    'libc_version': libc_version, 'pip': pip_version}))\n"
)


@dataclass(frozen=True)
class PythonInfo:
    """An interpreter a wheelhouse is prepared for."""

    version: tuple[int, int]
    full: str
    machine: str
    libc: str  # "glibc", "musl" or ""
    libc_version: str
    implementation: str = "cpython"
    pip: str | None = None

    @classmethod
    def from_probe(cls, output: str) -> PythonInfo:
        data = json.loads(output.strip().splitlines()[-1])
        major, minor = data["version"]
        return cls(
            version=(int(major), int(minor)),
            full=str(data["full"]),
            machine=str(data["machine"]),
            libc=str(data["libc"] or ""),
            libc_version=str(data["libc_version"] or ""),
            implementation=str(data["implementation"]),
            pip=data.get("pip"),
        )

    @classmethod
    def local(cls) -> PythonInfo:
        libc, libc_version = platform.libc_ver()
        return cls(
            version=(sys.version_info[0], sys.version_info[1]),
            full=platform.python_version(),
            machine=platform.machine(),
            libc=libc,
            libc_version=libc_version,
            implementation=sys.implementation.name,
        )

    @property
    def tag(self) -> str:
        return f"cp{self.version[0]}{self.version[1]}"

    def can_use_wheels_built_by(self, builder: PythonInfo) -> bool:
        """Whether wheels compiled by ``builder`` (tagged ``linux_<arch>``) run on this interpreter."""
        return (
            self.implementation == builder.implementation == "cpython"
            and self.version == builder.version
            and self.machine == builder.machine
            and self.libc == builder.libc == "glibc"
            and _version_tuple(self.libc_version) >= _version_tuple(builder.libc_version)
        )

    def platform_tags(self) -> list[str]:
        """The binary wheel platforms this interpreter accepts, newest first (for ``pip download``)."""
        arch = self.machine
        if self.libc == "musl":
            return [f"musllinux_1_{minor}_{arch}" for minor in (2, 1)]
        glibc_minor = _version_tuple(self.libc_version)[1:2] or (17,)
        tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor[0], 16, -1)]
        return [*tags, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def runtime_requirements() -> list[str]:
    """thriftbox's runtime dependencies, pinned to the versions installed here where they are installed.

    Read from the source tree's ``pyproject.toml`` when thriftbox runs from a checkout (the running code's own
    list), else from the installed distribution's metadata.
    """
    pyproject = source_root()
    if pyproject is not None:
        with (pyproject / "pyproject.toml").open("rb") as fh:
            declared = list(tomllib.load(fh)["project"].get("dependencies", []))
    else:
        declared = [r for r in importlib.metadata.requires("thriftbox") or [] if "extra ==" not in r]
    return [_pin(req) for req in declared]


def _pin(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None or ";" in requirement:
        return requirement.strip()
    try:
        return f"{match.group(1)}=={importlib.metadata.version(match.group(1))}"
    except importlib.metadata.PackageNotFoundError:
        return requirement.strip()


def source_root() -> Path | None:
    """The checkout thriftbox runs from (the folder holding its ``pyproject.toml``), if it runs from one."""
    package = about.PACKAGE_DIR
    for folder in list(package.parents)[:3]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                with candidate.open("rb") as fh:
                    if tomllib.load(fh).get("project", {}).get("name") == "thriftbox":
                        return folder
            except (OSError, tomllib.TOMLDecodeError):
                continue
    return None


def cache_root() -> Path:
    """``$THRIFTBOX_CACHE_DIR``, else ``$XDG_CACHE_HOME/thriftbox``, else ``~/.cache/thriftbox``."""
    explicit = os.environ.get("THRIFTBOX_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "thriftbox"


def pip_command(target: PythonInfo, requirements: Sequence[str], dest: Path) -> list[str]:
    """The pip command that fills ``dest`` with wheels of ``requirements`` (and their dependencies)."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    if target.can_use_wheels_built_by(PythonInfo.local()):
        return [*pip, "wheel", "--wheel-dir", str(dest), *requirements]
    cmd = [*pip, "download", "--only-binary=:all:", "--dest", str(dest)]
    cmd += ["--implementation", "cp", "--python-version", f"{target.version[0]}.{target.version[1]}"]
    cmd += ["--abi", target.tag]
    for tag in target.platform_tags():
        cmd += ["--platform", tag]
    return [*cmd, *requirements]


def wheelhouse_key(target: PythonInfo, requirements: Sequence[str]) -> str:
    command = pip_command(target, sorted(requirements), Path("-"))
    blob = json.dumps({"cmd": command[3:], "target": target.__dict__}, sort_keys=True, default=str)
    return f"{target.tag}-{target.machine}-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def prepare_wheelhouse(
    target: PythonInfo, requirements: Sequence[str], progress: Progress, root: Path | None = None
) -> Path:
    """A folder of wheels that installs ``requirements`` on ``target`` offline; built once, then cached."""
    folder = (root or cache_root()) / "wheelhouse" / wheelhouse_key(target, requirements)
    if (folder / ".complete").is_file():
        progress(f"wheelhouse: cached {folder}")
        return folder
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = pip_command(target, requirements, tmp)
    how = "building wheels here" if cmd[4] == "wheel" else f"downloading wheels for Python {target.full}"
    progress(f"wheelhouse: {how} ({' '.join(requirements)})")
    _run(cmd, progress, "preparing the wheelhouse")
    (tmp / ".complete").write_text(" ".join(cmd) + "\n", encoding="utf-8")
    if not (folder / ".complete").is_file():  # another thriftbox may have finished the same one meanwhile
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            tmp.rename(folder)
    shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _run(cmd: list[str], progress: Progress, what: str) -> None:
    last: deque[str] = deque(maxlen=15)
    env = {**os.environ, "PIP_NO_INPUT": "1", "PIP_PROGRESS_BAR": "off"}
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, stdin=subprocess.DEVNULL
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            if line:
                last.append(line)
                progress(line)
    if proc.returncode != 0:
        raise MockStartError(
            f"{what} failed: pip exited with code {proc.returncode}",
            hint="last lines of pip's output:\n"
            + "\n".join(last)
            + "\n(pip needs the package index or its cache; with a base image whose Python matches this"
            " one's, pip builds missing wheels here)",
        )
