"""Read stub files (YAML or JSON) into plain values that remember the line each key and item came from.

Mappings become :class:`LMap` and sequences :class:`LSeq`: a ``dict`` and a ``list`` with a ``line`` of their
own and the line of each key or item, so that a problem found while checking a stub against the IDL can point
at the line that holds it. Scalars stay plain Python values.

YAML is read with PyYAML's safe loader minus its timestamp rule (``2024-01-01`` stays a string: a Thrift stub
has no date type). JSON is read with :mod:`json` for the values (exact numbers and escapes) and composed once
more by PyYAML for the positions only. Before anything is built, :mod:`thriftbox.stubs.limits` bounds how deep
values nest and how much YAML aliases expand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from thriftbox.errors import Location, StubError
from thriftbox.stubs import limits

SUFFIXES = (".yaml", ".yml", ".json")


class LMap(dict[Any, Any]):
    """A mapping read from a stub file; ``lines[key]`` is the 1-based line of the key."""

    line: int = 0

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LSeq(list[Any]):
    """A sequence read from a stub file; ``lines[i]`` is the 1-based line of item ``i``."""

    line: int = 0

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


def line_of(container: Any, key: Any, default: int = 0) -> int:
    """The line of ``container[key]`` when the container was read from a file, else ``default``."""
    if isinstance(container, LMap | LSeq):
        return container.line_of(key)
    return default


_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 4x faster


class _Loader(_SafeBase):  # type: ignore[valid-type, misc]
    """The safe loader (libyaml's where installed) without the timestamp resolver."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def stub_files(root: Path) -> list[Path]:
    """Every stub file under ``root`` (recursively), in a stable order; hidden files and folders skipped."""
    files = [
        p
        for p in root.rglob("*")
        if p.suffix.lower() in SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return sorted(files)


def read_documents(path: Path) -> list[Any]:
    """The documents of one stub file (YAML multi-documents, or one JSON value); empty documents dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StubError(f"cannot read stub file: {err}", location=Location(path)) from None
    if path.suffix.lower() == ".json":
        return _read_json(text, path)
    return [doc for doc in _compose_all(text, path) if doc is not None]


def _compose_all(text: str, path: Path) -> list[Any]:
    loader = _Loader(text)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                limits.measure(node, path)  # before anything is built: depth, alias expansion, cycles
            docs.append(None if node is None else _build(node, loader, path))
        return docs
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = " ".join(str(p) for p in (err.problem, err.context) if p) or "malformed YAML"
        if "maximum nesting depth" in problem:  # libyaml stops at 1,000 levels
            raise limits.too_deep(Location(path, line, col)) from None
        raise StubError(
            f"YAML syntax error: {problem}",
            hint="check the indentation and quote strings that contain ': ', '{' or '#'",
            location=Location(path, line, col),
        ) from None
    except yaml.YAMLError as err:
        raise StubError(f"YAML error: {err}", location=Location(path)) from None
    except RecursionError:  # PyYAML's own composer (without libyaml) recurses once per level
        raise limits.too_deep(Location(path)) from None
    finally:
        loader.dispose()


def _build(node: yaml.Node, loader: _Loader, path: Path) -> Any:
    """The value of a composed node; ``limits.measure`` has bounded its depth and size and refused cycles."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolve `<<: *anchor` merge keys
        mapping = LMap(line)
        for key_node, value_node in node.value:
            key = _build(key_node, loader, path)
            key_line = key_node.start_mark.line + 1
            if isinstance(key, LMap | LSeq):
                raise StubError("a mapping key must be a plain value", location=Location(path, key_line))
            if key in mapping:
                raise StubError(
                    f"duplicate key {key!r} (first on line {mapping.lines[key]})",
                    hint="merge the two entries: YAML would silently keep only the last one",
                    location=Location(path, key_line),
                )
            mapping[key] = _build(value_node, loader, path)
            mapping.lines[key] = key_line
        return mapping
    if isinstance(node, yaml.SequenceNode):
        seq = LSeq(line)
        for item in node.value:
            seq.append(_build(item, loader, path))
            seq.lines.append(item.start_mark.line + 1)
        return seq
    return loader.construct_object(node, deep=True)


def _read_json(text: str, path: Path) -> list[Any]:
    try:
        value = json.loads(text, object_pairs_hook=lambda pairs: _json_object(pairs, path))
    except json.JSONDecodeError as err:
        raise StubError(
            f"JSON syntax error: {err.msg}", location=Location(path, err.lineno, err.colno)
        ) from None
    except RecursionError:  # json's scanner recurses once per level
        raise limits.too_deep(limits.json_too_deep_at(text, path)) from None
    if limits.json_depth(value) > limits.MAX_DEPTH:
        raise limits.too_deep(limits.json_too_deep_at(text, path))
    # JSON strings cannot hold raw tabs, so replacing them keeps every position and pleases YAML.
    try:
        shape = _compose_all(text.replace("\t", " "), path)
    except StubError:
        shape = []
    return [_with_lines(value, shape[0] if shape else None)]


def _json_object(pairs: list[tuple[str, Any]], path: Path) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise StubError(f"duplicate key {key!r}", location=Location(path))
        obj[key] = value
    return obj


def _with_lines(value: Any, shape: Any) -> Any:
    """``value`` (from json) as LMap/LSeq, taking lines from ``shape`` (the same document read as YAML)."""
    if isinstance(value, dict):
        out = LMap(shape.line if isinstance(shape, LMap) else 0)
        for key, item in value.items():
            sub = shape.get(key) if isinstance(shape, LMap) else None
            out[key] = _with_lines(item, sub)
            out.lines[key] = shape.line_of(key) if isinstance(shape, LMap) else out.line
        return out
    if isinstance(value, list):
        seq = LSeq(shape.line if isinstance(shape, LSeq) else 0)
        for i, item in enumerate(value):
            sub = shape[i] if isinstance(shape, LSeq) and i < len(shape) else None
            seq.append(_with_lines(item, sub))
            seq.lines.append(shape.line_of(i) if isinstance(shape, LSeq) else seq.line)
        return seq
    return value
