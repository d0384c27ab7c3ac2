"""Per-service settings of thriftbox.toml in a running session: a disabled service is never started (by a
reload either), a fixed port wins, and a latency that is not applied yet is said to be so."""

from __future__ import annotations

from pathlib import Path

from tests.supervisor.test_reload_process import CLOCK, CLOCK_IDL, GREETER, RecordingRuntime, make_project
from thriftbox.project.file import ServiceSettings
from thriftbox.supervisor.config import ServeConfig
from thriftbox.supervisor.session import Session

FIXED = 23999


def test_a_disabled_service_stays_off_through_reloads_and_a_fixed_port_wins(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    runtime = RecordingRuntime()
    lines: list[str] = []
    services = {
        CLOCK: ServiceSettings(enabled=False),
        GREETER: ServiceSettings(port=FIXED, latency=20.0),
    }
    config = ServeConfig(
        paths=(root / "idl",),
        mocks_dir=root / "mocks",
        root=root,
        admin_port=0,
        watch=False,
        services=services,
    )
    session = Session(config, report=lines.append, runtime=runtime)  # type: ignore[arg-type]
    session.start()
    try:
        assert runtime.started == [GREETER]
        assert session.ports == {GREETER: FIXED}
        assert lines == [
            f"{GREETER}: latency in thriftbox.toml is not applied yet (see docs/project-file.md)"
        ]

        clock = root / "idl" / "clock.thrift"
        clock.write_text(CLOCK_IDL.replace("i64 now()", "i64 now()\n  i64 later()"))
        session.apply_changes({clock})
        assert runtime.reloads == []  # the disabled service's own file changed: nothing to reload
        assert lines[-1].startswith("idl/clock.thrift: no service changed")

        weather = root / "idl" / "weather.thrift"
        weather.write_text("service Weather {\n  double temperature()\n}\n")
        clock.unlink()
        session.apply_changes({weather, clock})
        assert runtime.reloads == [([], ["weather.Weather"], [])]  # Clock, never started, is not stopped
        assert session.ports[GREETER] == FIXED
        assert session.ports["weather.Weather"] != FIXED
    finally:
        session.stop()
