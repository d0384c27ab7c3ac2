"""Build a catalog, a stub book and an engine from text, and call methods on the engine, for the stub tests."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thriftbox.idl import load_catalog
from thriftbox.idl.classes import Classes
from thriftbox.idl.model import Catalog
from thriftbox.stubs import Decision, StubBook, StubEngine, load_stubs
from thriftbox.values import ValueGenerator

HERE = Path(__file__).parent
USERS_IDL = HERE / "users.thrift"
REPO_MOCKS = HERE.parents[1] / "mocks"


@dataclass
class Sandbox:
    catalog: Catalog
    classes: Classes
    generator: ValueGenerator
    book: StubBook
    engine: StubEngine
    mocks: Path

    def args(self, service: str, method: str, **kwargs: Any) -> Any:
        return self.classes.args(self.sid(service), method)(**kwargs)

    def sid(self, service: str) -> str:
        svc = self.catalog.find_service(service)
        assert svc is not None, service
        return svc.id

    def call(self, service: str, method: str, **kwargs: Any) -> Decision:
        return self.engine.decide(self.sid(service), method, self.args(service, method, **kwargs))

    def struct(self, struct_name: str, /, **fields: Any) -> Any:
        qname = next(q for q, s in self.catalog.structs.items() if s.name == struct_name)
        return self.classes.struct(qname)(**fields)


def write_stubs(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def catalog_for(idl: Path) -> tuple[Catalog, Classes]:
    catalog = load_catalog([idl])
    return catalog, Classes(catalog)


def sandbox(tmp_path: Path, stubs: str | dict[str, str], idl: Path = USERS_IDL, seed: int = 7) -> Sandbox:
    """An engine over ``idl`` with the stub file(s) ``stubs`` (YAML text, or file name → text)."""
    catalog, classes = catalog_for(idl)
    files = stubs if isinstance(stubs, dict) else {"stubs.yaml": stubs}
    mocks = write_stubs(tmp_path / "mocks", files)
    generator = ValueGenerator(catalog, classes, seed=seed)
    book = load_stubs(mocks, catalog, classes)
    return Sandbox(
        catalog, classes, generator, book, StubEngine(book, catalog, classes, generator, seed=seed), mocks
    )
