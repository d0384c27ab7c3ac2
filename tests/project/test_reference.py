"""docs/project-file.md is generated from the key definitions in thriftbox.project.file; stale is a failure.

Regenerate: python -m tests.project.test_reference > docs/project-file.md
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from thriftbox.project.file import SERVE_KEYS, SERVICE_KEYS, read_project_file
from thriftbox.supervisor.projectfile import reference

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "project-file.md"


def test_the_reference_page_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == reference(), (
        "docs/project-file.md is stale: python -m tests.project.test_reference > docs/project-file.md"
    )


def test_the_reference_lists_every_key_with_its_serve_default() -> None:
    page = reference()
    for key in (*SERVE_KEYS, *SERVICE_KEYS):
        assert f"| `{key.name}` |" in page
    assert "| `port` | integer, 1..65535 | `9090` | `--port` |" in page
    assert "| `watch` | boolean | `true` | `--no-watch` |" in page


def test_the_example_on_the_page_is_a_valid_project_file(tmp_path: Path) -> None:
    example = reference().split("```toml\n", 1)[1].split("```", 1)[0]
    tomllib.loads(example)
    (tmp_path / "thriftbox.toml").write_text(example)
    project = read_project_file(tmp_path / "thriftbox.toml")
    assert project.serve["paths"] == (tmp_path / "idl",)
    assert project.services["users.Users"].port == 9190


if __name__ == "__main__":
    sys.stdout.write(reference())
