"""Worker processes of a mock host: more than one core for the same ports (``--workers N``).

One Python process answers calls on one core. With ``--workers N`` a host (the *main* process) starts N-1
worker processes. The main process alone listens on the service ports; it hands each accepted connection in
turn to itself or to a worker, passing the socket over a Unix socket (``SCM_RIGHTS``). A connection stays with
the process that took it, so the calls on one connection are answered in order, as before.

Every worker loads the same definitions and keeps its own journal, run-time stubs and simulated state. The
main process forwards what changes them (reloads, stubs added or removed, resets, a cleared journal) to every
worker, and merges the workers' journals into its own (see :func:`merged_journal`); so a host with workers
looks like one host from outside. What counts calls (sequences, ``times``, state) counts per worker.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from thriftbox.control import HttpError, request_json
from thriftbox.errors import MockStartError

log = logging.getLogger("thriftbox.workers")

_KIND = getattr(socket, "SOCK_SEQPACKET", socket.SOCK_DGRAM)  # message boundaries, and EOF where available
READY_TIMEOUT = 60.0


@dataclass(eq=False)
class _Worker:
    index: int
    proc: subprocess.Popen[bytes]
    channel: socket.socket
    url: str | None = None  # its control endpoint, once it said it is ready
    ready: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class WorkerPool:
    """The main process's side: starts the workers, hands them connections, forwards changes to them."""

    def __init__(
        self,
        count: int,
        command: Sequence[str],
        catch_up: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.count = count  # worker processes besides the main one
        self.command = list(command)  # `thriftbox host ...`; the channel option is appended per worker
        self.catch_up = catch_up  # brings a replacement worker (its control URL) up to date: run-time stubs
        self.workers: list[_Worker] = []
        self._started = False  # after start(): a worker lost from then on is replaced
        self._closing = False

    @property
    def urls(self) -> list[str | None]:
        """Each worker's control URL by index (None while it is not ready)."""
        return [w.url for w in self.workers]

    async def start(self) -> None:
        """Start every worker and wait until each can take connections; MockStartError if one cannot."""
        self.workers = [self._spawn(i + 1) for i in range(self.count)]
        try:
            await asyncio.wait_for(asyncio.gather(*(w.ready for w in self.workers)), READY_TIMEOUT)
            self._started = True
        except BaseException as exc:
            await self.close()
            if isinstance(exc, TimeoutError):
                raise MockStartError(
                    f"the host's worker processes were not ready within {READY_TIMEOUT:.0f} s"
                ) from None
            raise

    def _spawn(self, index: int) -> _Worker:
        ours, theirs = socket.socketpair(socket.AF_UNIX, _KIND)
        try:
            cmd = [*self.command, "--worker-channel", str(theirs.fileno())]
            proc = subprocess.Popen(cmd, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        worker = _Worker(index, proc, ours)
        asyncio.get_running_loop().add_reader(ours.fileno(), self._message, worker)
        return worker

    def _message(self, worker: _Worker) -> None:
        try:
            data = worker.channel.recv(256)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data.startswith(b"ready "):
            url = f"http://127.0.0.1:{int(data[6:])}"
            if self._started and self.catch_up is not None:  # a replacement: connections once it caught up
                asyncio.get_running_loop().create_task(self._caught_up(worker, url))
            else:
                self._ready(worker, url)
        elif not data:
            self._gone(worker)

    async def _caught_up(self, worker: _Worker, url: str) -> None:
        assert self.catch_up is not None
        try:
            await self.catch_up(url)
        except (OSError, HttpError) as err:
            log.warning("worker %d did not take the run-time stubs: %s", worker.index, err)
        if worker in self.workers and not self._closing:
            self._ready(worker, url)

    def _ready(self, worker: _Worker, url: str) -> None:
        worker.url = url
        log.info("worker %d (pid %d) ready", worker.index, worker.proc.pid)
        if not worker.ready.done():
            worker.ready.set_result(None)

    def _gone(self, worker: _Worker) -> None:
        """A worker's channel closed: it exited. Its connections are lost; a new worker takes its place."""
        loop = asyncio.get_running_loop()
        loop.remove_reader(worker.channel.fileno())
        worker.channel.close()
        worker.url = None
        code = worker.proc.poll()
        if self._closing:
            return
        if not self._started:  # start() is waiting for it
            worker.ready.set_exception(
                MockStartError(f"worker process {worker.index} exited ({code}) before it was ready")
            )
            return
        if not worker.ready.done():  # a replacement that could not start either: stop trying
            worker.ready.cancel()
            log.warning("worker %d exited (%s) before it was ready; not replaced", worker.index, code)
            return
        log.warning(
            "worker %d exited (%s); its connections were dropped; starting another", worker.index, code
        )
        with_new = self._spawn(worker.index)
        self.workers[self.workers.index(worker)] = with_new

    def handoff_for(self, service_id: str) -> Callable[[socket.socket], bool]:
        """A ``ThriftServer.handoff``: connections of ``service_id`` go round-robin to this process and the
        ready workers."""
        turn = itertools.count()
        name = service_id.encode()

        def handoff(sock: socket.socket) -> bool:
            live = [w for w in self.workers if w.url is not None]
            k = next(turn) % (len(live) + 1)
            if k == 0:
                return False
            try:
                socket.send_fds(live[k - 1].channel, [name], [sock.fileno()])
            except OSError:  # full or gone: serve it here
                return False
            return True

        return handoff

    async def forward(self, method: str, path: str, body: Any = None) -> list[Any]:
        """Send the same control request to every ready worker; their answers (HttpError if one refused)."""
        answers = []
        for url in self.urls:
            if url is not None:
                answers.append(await asyncio.to_thread(request_json, url + path, method, body, 65.0))
        return answers

    async def close(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL after 5 s)."""
        self._closing = True
        loop = asyncio.get_running_loop()
        for w in self.workers:
            if w.channel.fileno() >= 0:
                loop.remove_reader(w.channel.fileno())
                w.channel.close()
            if w.proc.poll() is None:
                w.proc.terminate()
        for w in self.workers:
            try:
                await asyncio.to_thread(w.proc.wait, 5)
            except subprocess.TimeoutExpired:
                w.proc.kill()
                await asyncio.to_thread(w.proc.wait, 5)
        self.workers = []


class WorkerLink:
    """A worker's side: takes the connections the main process passes, says when it is ready, and stops the
    worker when the main process is gone."""

    def __init__(
        self, fd: int, adopt: Callable[[str, socket.socket], None], stop: Callable[[], None]
    ) -> None:
        self.channel = socket.socket(fileno=fd)
        self.channel.setblocking(False)
        self.adopt = adopt
        self.stop = stop
        self._parent = os.getppid()

    def start(self, control_port: int) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.channel.fileno(), self._receive)
        self.channel.send(b"ready %d" % control_port)
        loop.call_later(1.0, self._watch_parent)

    def _receive(self) -> None:
        while True:
            try:
                msg, fds, _, _ = socket.recv_fds(self.channel, 1024, 4)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                msg, fds = b"", []
            if not msg and not fds:  # the main process is gone
                self.close()
                self.stop()
                return
            for fd in fds:
                sock = socket.socket(fileno=fd)
                try:
                    self.adopt(msg.decode(), sock)
                except Exception as exc:  # e.g. a service this worker does not serve (yet)
                    log.warning(
                        "cannot serve a connection passed for %s: %s", msg.decode(errors="replace"), exc
                    )
                    sock.close()

    def _watch_parent(self) -> None:
        if os.getppid() != self._parent:  # no EOF where the channel is a datagram socket
            self.close()
            self.stop()
            return
        asyncio.get_running_loop().call_later(1.0, self._watch_parent)

    def close(self) -> None:
        if self.channel.fileno() >= 0:
            asyncio.get_running_loop().remove_reader(self.channel.fileno())
            self.channel.close()


async def merged_journal(
    own: Callable[[int], list[dict[str, Any]]],
    last_id: int,
    pool: WorkerPool,
    query: dict[str, str],
) -> dict[str, Any]:
    """The journal of a host with workers: ``own(since)`` gives the main process's entries.

    ``since`` is the ``cursor`` a previous answer gave: one position per process, joined by ``.``. Entry ids
    are made unique across the processes (``local id * processes + process index``)."""
    sources = 1 + len(pool.workers)
    cursor = [int(x) for x in (query.get("since") or "").split(".") if x.isdigit()]
    cursor += [0] * (sources - len(cursor))
    params = {k: v for k, v in query.items() if k in ("service", "method", "client") and v}
    wait = min(float(query.get("wait") or 0), 60.0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        found: list[tuple[int, list[dict[str, Any]]]] = [(0, own(cursor[0]))]
        for i, url in enumerate(pool.urls, start=1):
            if url is None:
                continue
            qs = urlencode({**params, "since": cursor[i]})
            try:
                answer = await asyncio.to_thread(request_json, f"{url}/journal?{qs}", "GET", None, 10.0)
            except (OSError, HttpError) as err:
                log.warning("worker %d's journal is not available: %s", i, err)
                continue
            found.append((i, answer["entries"]))
        entries: list[dict[str, Any]] = []
        for i, got in found:
            for e in got:
                cursor[i] = max(cursor[i], int(e["id"]))
                entries.append({**e, "id": int(e["id"]) * sources + i})
        if entries or loop.time() >= deadline:
            entries.sort(key=lambda e: (e["time"], e["id"]))
            return {"entries": entries, "last_id": last_id, "cursor": ".".join(map(str, cursor))}
        await asyncio.sleep(min(0.05, max(deadline - loop.time(), 0.0)))
