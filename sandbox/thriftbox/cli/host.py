"""``thriftbox host``: the hidden command the runtimes run: one mock host process."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from thriftbox.cli.common import handle_errors, include_opt, path_arg
from thriftbox.cli.output import configure_logging
from thriftbox.host.config import DEFAULT_MAX_FRAME


@click.command(hidden=True)
@click.option("--idl", "idl_dirs", multiple=True, required=True, type=path_arg)
@include_opt
@click.option("--mocks", "mocks_dir", type=path_arg, default=None)
@click.option("--seed", default=0, type=int)
@click.option("--service", "services", multiple=True, required=True, help="SERVICE_ID=PORT")
@click.option("--bind", default="127.0.0.1")
@click.option("--control-port", default=0, type=int)
@click.option("--control-bind", default="127.0.0.1", help="where the control endpoint listens")
@click.option("--max-frame", default=DEFAULT_MAX_FRAME, type=int)
@click.option("--workers", default=1, type=click.IntRange(1, 64))
@click.option("--worker-channel", default=None, type=int)
@click.option("--journal-start", default=0, type=int)
@click.option("--now", default=None)
@click.option("--state-dir", type=click.Path(path_type=Path), default=None)
@click.option("--tls-cert", type=path_arg, default=None)
@click.option("--tls-key", type=path_arg, default=None)
@click.option("--tls-client-ca", type=path_arg, default=None)
@click.option("--proxy", "proxies", multiple=True, help="SERVICE_ID=HOST:PORT,PROTOCOL,FRAMING,TIMEOUT_MS")
@click.option("--proxy-mode", default="forward", type=click.Choice(["forward", "fallback"]))
@click.option("--record-dir", default=None, type=path_arg)
@click.option("--redact", multiple=True)
@handle_errors
def host(
    idl_dirs: tuple[Path, ...],
    include_dirs: tuple[Path, ...],
    mocks_dir: Path | None,
    seed: int,
    services: tuple[str, ...],
    bind: str,
    control_port: int,
    control_bind: str,
    max_frame: int,
    workers: int,
    worker_channel: int | None,
    journal_start: int,
    now: str | None,
    state_dir: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
    proxies: tuple[str, ...],
    proxy_mode: str,
    record_dir: Path | None,
    redact: tuple[str, ...],
) -> None:
    """Run a mock host (used by the runtimes; not for direct use)."""
    from thriftbox.host.config import HostConfig, ProxyTarget
    from thriftbox.host.process import run_host

    if logging.getLogger("thriftbox").level > logging.INFO:
        configure_logging(1)  # a host's output is a log file: readiness, reloads and warnings belong in it

    mapping = {}
    for item in services:
        sid, _, port = item.rpartition("=")
        mapping[sid] = int(port)
    config = HostConfig(
        idl_dirs=idl_dirs,
        services=mapping,
        include_dirs=include_dirs,
        mocks_dir=mocks_dir,
        seed=seed,
        bind=bind,
        control_port=control_port,
        control_bind=control_bind,
        max_frame=max_frame,
        workers=workers,
        worker_channel=worker_channel,
        journal_start=journal_start,
        now=now,
        state_dir=state_dir,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_client_ca=tls_client_ca,
        proxies={sid: ProxyTarget.parse(spec) for sid, _, spec in (p.partition("=") for p in proxies)},
        proxy_mode=proxy_mode,
        record_dir=record_dir,
        redact=redact,
    )
    run_host(config)


@click.command(hidden=True)
@click.option("--project", required=True)
@click.option("--session", required=True)
@handle_errors
def reaper(project: str, session: str) -> None:
    """The Docker runtime's reaper (runs in its own container): removes a session's containers once the
    `serve` that started them is gone."""
    from thriftbox.runtime.docker import reaper as reaping
    from thriftbox.runtime.docker.sdk import reap

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    listener = reaping.listen()
    log = logging.getLogger("thriftbox.reaper")
    log.info("reaper of %s (session %s) listening on %d", project, session, reaping.PORT)
    try:
        seen = reaping.watch(listener)
    finally:
        listener.close()
    removed = reap(project, session)
    log.info("%d connection(s) seen; removed %s", seen, ", ".join(removed) or "nothing")
