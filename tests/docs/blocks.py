"""The console examples of README.md and docs/: finding them, their markers, running them, comparing output.

A ```console block needs a marker comment on the line just above it:

- ``<!-- doc-test: demo -->``: every ``$ `` line is run (bash, in a copy of the demo with a served demo) and
  its output compared with the lines below it, after normalizing what varies (ports, pids, times, durations,
  dates, paths). A line ``...`` stands for any number of lines; `` ...`` inside a line for any text.
  Regenerate with ``python -m tests.docs.regen``.
- ``<!-- doc-test: illustrative -->``: not run; every thriftbox command in it must exist with those options.
- ``<!-- doc-test: shell -->``: other shell commands; the make targets it names must exist.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from thriftbox.cli.main import main

REPO = Path(__file__).resolve().parents[2]
KINDS = ("demo", "illustrative", "shell")
MARKER = re.compile(r"^<!-- doc-test: (\S+) -->$")
# The ports the docs show: the admin API below the first mock port, as `thriftbox serve` numbers them by default.
DOC_BASE = 9090


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the ```console fence
    kind: str | None  # None: no marker
    body: list[str]  # the lines between the fences

    @property
    def where(self) -> str:
        path = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{path}:{self.line}"

    def commands(self) -> list[tuple[str, list[str]]]:
        """(command, expected output lines) for every ``$ `` line; lines before the first are ignored."""
        out: list[tuple[str, list[str]]] = []
        for line in self.body:
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line)
        return [(cmd, _strip_trailing_blank(lines)) for cmd, lines in out]


def _strip_trailing_blank(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def doc_files(root: Path = REPO) -> list[Path]:
    docs = root / "docs"
    pages = sorted(p for p in docs.rglob("*.md") if "examples" not in p.relative_to(docs).parts)
    return [root / "README.md", *pages]


def blocks_of(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```console":
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            m = MARKER.match(lines[i - 1].strip()) if i else None
            found.append(Block(path, i + 1, m.group(1) if m else None, lines[i + 1 : end]))
            i = end
        i += 1
    return found


def all_blocks(root: Path = REPO) -> list[Block]:
    return [b for p in doc_files(root) for b in blocks_of(p)]


# --- normalizing and comparing ------------------------------------------------------------------------------

_NORMALIZE = [
    (re.compile(r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b"), "<date>"),
    (re.compile(r"\b\d\d:\d\d:\d\d\b"), "<time>"),
    (re.compile(r"\b\d+(?:\.\d+)? ?(ms|s)\b"), r"<n> \1"),
    (re.compile(r"\bpid \d+"), "pid <n>"),
    (re.compile(r"\b1\d{9}(\d{3})?\b"), "<epoch>"),
    (re.compile(r"([━─ ])\1+"), r"\1"),  # table widths follow the lengths of pids and ports
]


def normalize(text: str) -> str:
    for pattern, repl in _NORMALIZE:
        text = pattern.sub(repl, text)
    return text.rstrip()


def _line_pattern(expected: str) -> re.Pattern[str]:
    parts = normalize(expected).split("...")
    return re.compile(".*?".join(re.escape(p) for p in parts) + r"\Z", re.DOTALL)


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether actual output fits the expected lines: ``...`` alone matches any lines, inside a line any text."""
    exp = list(expected)
    act = [normalize(a) for a in _strip_trailing_blank(actual)]

    def fit(i: int, j: int) -> bool:
        if i == len(exp):
            return j == len(act)
        if exp[i].strip() == "...":
            return any(fit(i + 1, k) for k in range(j, len(act) + 1))
        return j < len(act) and bool(_line_pattern(exp[i]).match(act[j])) and fit(i + 1, j + 1)

    return fit(0, 0)


# --- running ------------------------------------------------------------------------------------------------


@dataclass
class Demo:
    """A copy of the demo (idl/, mocks/) in root; ``base`` the first mock port of its serve, if one runs."""

    root: Path
    base: int | None = None
    offline: Path | None = None  # where blocks that need no serve run: a folder no serve runs in

    def reset_files(self) -> None:
        for name in ("idl", "mocks"):
            shutil.rmtree(self.root / name, ignore_errors=True)
            shutil.copytree(REPO / name, self.root / name)

    def to_real(self, text: str) -> str:
        """Doc ports (9089..) -> the ports this demo serves on."""
        if self.base is None:
            return text
        base = self.base
        return re.sub(r"\b(9089|909\d)\b", lambda m: str(int(m.group(1)) - DOC_BASE + base), text)

    def to_doc(self, text: str) -> str:
        """The ports and paths of this run -> the ones the docs show."""
        text = text.replace(str(self.root) + "/", "").replace(str(self.root), ".")
        if self.base is None:
            return text
        base = self.base

        def port(m: re.Match[str], pad: bool) -> str:
            real = m.group(1)
            if not base - 1 <= int(real) < base + 10:
                return real
            doc = str(int(real) - base + DOC_BASE)
            return doc + " " * (len(real) - len(doc)) if pad else doc  # a table keeps its column width

        lines = []
        for line in text.splitlines():
            pad = "│" in line
            lines.append(re.sub(r"\b(\d{4,5})\b", lambda m: port(m, pad), line))  # noqa: B023
        return "\n".join(lines)


def run_block(block: Block, demo: Demo, env: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Runs each ``$ `` command of the block in the demo; (command, output lines) as the doc would show them."""
    if demo.offline is not None and not needs_serve(block):
        demo = Demo(demo.offline, demo.base)
    demo.root.mkdir(parents=True, exist_ok=True)
    demo.reset_files()
    bindir = Path(sys.executable).parent
    env = {**env, "PATH": f"{bindir}:{env.get('PATH', '')}", "NO_COLOR": "1", "TERM": "dumb"}
    venv = demo.root / ".venv"
    if not venv.exists():
        venv.symlink_to(Path(sys.prefix))
    if demo.base is not None and needs_serve(block):
        for clean in (["journal", "--clear"], ["reset"]):  # each block starts from an empty journal and state
            subprocess.run(["thriftbox", *clean], cwd=demo.root, env=env, capture_output=True, check=True)
    results: list[tuple[str, list[str]]] = []
    rc = 0
    for cmd, _ in block.commands():
        proc = subprocess.run(
            ["bash", "-c", f"(exit {rc}); {demo.to_real(cmd)}"],
            cwd=demo.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        rc = proc.returncode
        text = proc.stdout + proc.stderr
        results.append((cmd, _strip_trailing_blank(demo.to_doc(text).splitlines())))
    return results


def stale(block: Block, results: list[tuple[str, list[str]]]) -> list[str]:
    """What differs between the block and a run of it; empty when the block is current."""
    problems = []
    for (cmd, expected), (_, actual) in zip(block.commands(), results, strict=True):
        if not matches(expected, actual):
            problems.append(
                f"$ {cmd}\n--- the doc shows:\n"
                + "\n".join(expected)
                + "\n--- the command prints:\n"
                + "\n".join(actual)
            )
    return problems


def regenerated(block: Block, results: list[tuple[str, list[str]]]) -> list[str]:
    """The block's new body: a command whose output still matches keeps its (possibly elided) lines."""
    body: list[str] = []
    for (cmd, expected), (_, actual) in zip(block.commands(), results, strict=True):
        body.append(f"$ {cmd}")
        body += expected if matches(expected, actual) else actual
    return body


def needs_serve(block: Block) -> bool:
    return any(
        (words := _words(cmd)) and words[0] in ("call", "journal", "status", "stubs", "reset", "verify")
        for cmd, _ in block.commands()
    )


# --- shape checks -------------------------------------------------------------------------------------------


def _words(cmd: str) -> list[str]:
    """The thriftbox arguments of a command line (after ``thriftbox``), or [] when it runs something else."""
    try:
        words = shlex.split(cmd, comments=True)
    except ValueError:
        return []
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]  # VAR=value prefixes
    if words and words[0].endswith("thriftbox"):
        return words[1:] or ["--help"]
    return []


def shape_problems(block: Block) -> list[str]:
    """Every thriftbox command names a real command and options it has; every make target exists."""
    problems: list[str] = []
    targets = set(re.findall(r"^([A-Za-z][\w.-]*):", (REPO / "Makefile").read_text(), re.MULTILINE))
    for line in block.body:
        if not line.lstrip().startswith("$ "):
            continue
        cmd = line.lstrip()[2:]
        for part in re.split(r"&&|\|\||;|\|", cmd.split(" #")[0]):
            try:
                words = shlex.split(part)
            except ValueError:
                continue
            if words and words[0] == "make":
                problems += [
                    f"make target {t!r} not in the Makefile"
                    for t in words[1:]
                    if "=" not in t and not t.startswith("-") and t not in targets
                ]
            if words and words[0].endswith("thriftbox"):
                problems += _option_problems(words[1:])
    return problems


def _option_problems(args: list[str]) -> list[str]:
    if not args:
        return []
    name = args[0]
    if name.startswith("-"):
        return [] if name in ("--help", "-h", "--version") else [f"thriftbox has no option {name}"]
    cmd: click.Command | None = main.commands.get(name)
    if cmd is None:
        return [f"no command thriftbox {name}"]
    while isinstance(cmd, click.Group) and len(args) > 1 and not args[1].startswith("-"):  # `export compose`
        sub = cmd.commands.get(args[1])
        if sub is None:
            return [f"no command thriftbox {name} {args[1]}"]
        cmd, name, args = sub, f"{name} {args[1]}", args[1:]
    options = {o for p in cmd.params if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)}
    options |= {"--help", "-h"}
    return [
        f"thriftbox {name} has no option {a.split('=')[0]}"
        for a in args[1:]
        if a.startswith("-") and a != "-" and a.split("=")[0] not in options
    ]


def iter_marker_problems(blocks: list[Block]) -> Iterator[str]:
    for b in blocks:
        if b.kind not in KINDS:
            yield (
                f"{b.where}: a ```console block needs a marker on the line above it: "
                + " or ".join(f"<!-- doc-test: {k} -->" for k in KINDS)
                + (f" (found {b.kind!r})" if b.kind else "")
            )
