"""A multiplexed call naming another service of the same host goes to that service's mock, as on an Apache
server with several processors registered on one port; which service a bare name means when two files
define it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from thriftbox.host.config import HostConfig
from thriftbox.host.mock import MockApp
from thriftbox.host.process import MockHost

FILES = {
    "main.thrift": "service Main { string hi() }\nservice Second { string who() }\n",
    "other.thrift": "service Second { string who(1: i32 n) }\nservice Lonely { void alone() }\n",
    "twin_a.thrift": "service Twin { void a() }\n",
    "twin_b.thrift": "service Twin { void b() }\n",
}
SERVICES = ["main.Main", "main.Second", "other.Second", "other.Lonely", "twin_a.Twin", "twin_b.Twin"]


@pytest.fixture
def routes(tmp_path: Path) -> dict[str, str | None]:
    """For each multiplexed name sent to Main's port: the id of the service whose mock answers, or None."""
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    names = ["Second", "main.Second", "other.Second", "Lonely", "Twin", "twin_b.Twin", "Main", "Nope"]

    async def scenario() -> dict[str, str | None]:
        host = MockHost(HostConfig(idl_dirs=(tmp_path,), services=dict.fromkeys(SERVICES, 0)))
        await host.start()
        try:
            main = host.servers["main.Main"].app
            assert isinstance(main, MockApp)
            return {name: _answering(main, name) for name in names}
        finally:
            await host.close()

    return asyncio.run(scenario())


OWNERS = {"hi": "main.Main", "alone": "other.Lonely", "a": "twin_a.Twin", "b": "twin_b.Twin"}


def _answering(main: MockApp, name: str) -> str | None:
    """Which service's method table ``main.bind`` used for ``name``: ``who`` takes an argument only in other."""
    for method in ("hi", "who", "alone", "a", "b"):
        binding = main.bind(name, method)
        if binding is not None:
            if method == "who":
                return "other.Second" if binding.args_cls.thrift_spec else "main.Second"  # type: ignore[attr-defined]
            return OWNERS[method]
    return None


def test_a_name_defined_in_the_callers_file_means_that_service(routes: dict[str, str | None]) -> None:
    assert routes["Second"] == "main.Second"


def test_a_service_id_names_exactly_that_service(routes: dict[str, str | None]) -> None:
    assert routes["main.Second"] == "main.Second"
    assert routes["other.Second"] == "other.Second"
    assert routes["twin_b.Twin"] == "twin_b.Twin"


def test_a_name_unique_on_the_host_reaches_it_from_another_file(routes: dict[str, str | None]) -> None:
    assert routes["Lonely"] == "other.Lonely"


def test_an_ambiguous_or_unknown_name_reaches_nothing(routes: dict[str, str | None]) -> None:
    assert routes["Twin"] is None  # two files define Twin, neither is Main's
    assert routes["Nope"] is None


def test_the_own_name_still_means_the_service_itself(routes: dict[str, str | None]) -> None:
    assert routes["Main"] == "main.Main"
