"""The ``.thriftbox/`` folder of a project: the one place its layout is spelled.

``serve`` run in a folder keeps its stable ports, the state of the running session and the host logs there;
``status``, ``journal``, ``call`` and the pytest plugin read them back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FOLDER = ".thriftbox"


@dataclass(frozen=True)
class Layout:
    """Where a project's files live, below its root (the folder ``serve`` runs in)."""

    root: Path

    @property
    def folder(self) -> Path:
        return self.root / FOLDER

    @property
    def ports_file(self) -> Path:
        """Service id -> port, remembered across runs (:mod:`thriftbox.project.ports`)."""
        return self.folder / "ports.json"

    @property
    def state_file(self) -> Path:
        """What the running ``serve`` serves (:mod:`thriftbox.project.state`)."""
        return self.folder / "state.json"

    @property
    def logs_dir(self) -> Path:
        return self.folder / "logs"

    @property
    def host_log(self) -> Path:
        """The log of the process runtime's mock host."""
        return self.logs_dir / "host.log"

    def real_log(self, name: str) -> Path:
        """The log of the real service ``name`` (``[real.NAME]``) in the process runtime."""
        return self.logs_dir / f"real-{name}.log"

    @property
    def hosts_dir(self) -> Path:
        """What mock hosts keep across a restart of their process or container, one folder each (host.persist);
        emptied when ``serve`` starts them, removed when it stops."""
        return self.folder / "hosts"

    def owns(self, path: Path) -> bool:
        """Whether ``path`` is one of these files (a watcher ignores them)."""
        return path.is_relative_to(self.folder)


def project_name(root: Path) -> str:
    """A slug of the project folder's name, safe in container and network names."""
    slug = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")
    return slug or "project"
