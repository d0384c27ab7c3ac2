"""Plain dicts as YAML: keys in the order given, block style, no aliases, strings quoted only when needed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(document: Mapping[str, Any], header: str = "") -> str:
    """One YAML document, after ``header`` (comment lines)."""
    return header + yaml.dump(
        dict(document), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100
    )


def dump_all(documents: Iterable[Mapping[str, Any]]) -> str:
    """Several documents separated by ``---``."""
    return "---\n".join(dump(d) for d in documents)
