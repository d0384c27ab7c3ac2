"""The main process's side of a host with workers: starting them, dealing them connections, keeping them current.

Every change that reaches workers goes through :attr:`WorkerPool.changes`, one at a time and to all workers at
once; a worker that does not take one is restarted, so it reads the files again and gets the run-time stubs
from the main process (``catch_up``) before it is dealt connections. A worker that dies is replaced the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from thriftbox.control import paths
from thriftbox.control.client import ControlError, HostClient, Refused
from thriftbox.errors import MockStartError

if TYPE_CHECKING:
    from thriftbox.host.config import HostConfig

log = logging.getLogger("thriftbox.host.workers")

_KIND = getattr(socket, "SOCK_SEQPACKET", socket.SOCK_DGRAM)  # message boundaries, and EOF where available
READY_TIMEOUT = 60.0
CHANGE_TIMEOUT = 5.0  # a stub, a reset, a cleared journal; a reload may take RELOAD_TIMEOUT
RELOAD_TIMEOUT = 30.0
KILL_AFTER = 3.0  # a worker asked to stop that has not after this long is killed (stopped, or stuck)
JOURNAL_GENERATION = 10**9  # the n-th worker started in a slot numbers its journal entries from n * this

Command = Callable[[int], list[str]]
"""``journal_start -> the worker's command line`` (``thriftbox host ...``, for the services served now)."""


def worker_command(config: HostConfig, services: dict[str, int], journal_start: int) -> list[str]:
    """The command line of a worker process of the host ``config`` describes, serving ``services`` (the pool
    appends its channel)."""
    worker = replace(
        config,
        services=services,
        bind="127.0.0.1",
        control_port=0,
        workers=1,
        worker_channel=None,
        journal_start=journal_start,
        state_dir=None,  # the main process keeps what survives a restart (host.persist)
    )
    return [sys.executable, "-m", "thriftbox", *worker.argv()]


@dataclass(eq=False)
class _Worker:
    index: int
    proc: subprocess.Popen[bytes]
    channel: socket.socket
    version: int  # the pool's reload count when it was started: which files it read
    url: str | None = None  # its control endpoint once ready and caught up: it takes changes and connections
    said_ready: bool = False  # it loaded the files and answered; else it could not start
    restarted: bool = False  # ended on purpose: replace it even if it was not ready yet
    abandoned: bool = False  # dead and not replaced (it could not start): revive() tries again
    started_at: float = 0.0
    ready: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def alive(self) -> bool:
        return self.channel.fileno() >= 0


class WorkerPool:
    """Starts ``count`` workers, deals them connections, forwards changes to them, replaces those that die."""

    def __init__(
        self, count: int, command: Command, catch_up: Callable[[str], Awaitable[None]] | None = None
    ) -> None:
        self.count = count  # worker processes besides the main one
        self.command = command
        self.catch_up = catch_up  # brings a new worker (its control URL) up to date: run-time stubs
        self.workers: list[_Worker] = []
        self.changes = asyncio.Lock()  # one change at a time reaches the workers, catch-ups included
        self.version = 0  # reloads forwarded so far
        self._generations: dict[int, int] = {}
        self._failures: dict[int, int] = {}  # per slot: workers in a row that did not last
        self._started = False  # after start(): a worker lost from then on is replaced
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def urls(self) -> list[str | None]:
        """Each worker's control URL by index (None while it is not ready)."""
        return [w.url for w in self.workers]

    async def start(self) -> None:
        """Start every worker and wait until each can take connections; MockStartError if one cannot."""
        self.workers = [self._spawn(i + 1) for i in range(self.count)]
        try:
            await asyncio.wait_for(asyncio.gather(*(w.ready for w in self.workers)), READY_TIMEOUT)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, TimeoutError):
                raise MockStartError(
                    f"the host's worker processes were not ready within {READY_TIMEOUT:.0f} s"
                ) from None
            raise
        self._started = True

    def _spawn(self, index: int) -> _Worker:
        generation = self._generations[index] = self._generations.get(index, -1) + 1
        ours, theirs = socket.socketpair(socket.AF_UNIX, _KIND)
        try:
            cmd = [*self.command(generation * JOURNAL_GENERATION), "--worker-channel", str(theirs.fileno())]
            proc = subprocess.Popen(  # its own process group: a terminal's Ctrl-C is the main process's to handle
                cmd, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, process_group=0
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        loop = asyncio.get_running_loop()
        worker = _Worker(index, proc, ours, self.version, started_at=loop.time())
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
            worker.said_ready = True
            url = f"http://127.0.0.1:{int(data[6:])}"
            if self._started and self.catch_up is not None:  # a replacement: connections once it caught up
                self._task(self._caught_up(worker, url))
            else:
                self._ready(worker, url)
        elif not data:
            self._gone(worker)

    async def _caught_up(self, worker: _Worker, url: str) -> None:
        assert self.catch_up is not None
        async with self.changes:  # no change can slip between the stubs it copies and its first connection
            if worker.version != self.version:  # a reload came after it read the files: read them again
                self.restart(worker)
                return
            try:
                await self.catch_up(url)
            except Exception as err:  # unreachable, failing, or an answer that is not JSON
                log.warning("worker %d did not take the run-time stubs: %s; restarting it", worker.index, err)
                self.restart(worker)
                return
            if worker.alive and worker in self.workers and not self._closing:
                self._ready(worker, url)

    def _ready(self, worker: _Worker, url: str) -> None:
        worker.url = url
        log.info("worker %d (pid %d) ready", worker.index, worker.proc.pid)
        if not worker.ready.done():
            worker.ready.set_result(None)

    def _gone(self, worker: _Worker) -> None:
        """A worker's channel closed: it exited (its connections with it). Reap it, and start another."""
        loop = asyncio.get_running_loop()
        loop.remove_reader(worker.channel.fileno())
        worker.channel.close()
        worker.url = None
        if not worker.ready.done():
            if not self._started:  # start() is waiting for it
                worker.ready.set_exception(MockStartError(f"worker process {worker.index} exited early"))
                worker.ready.exception()  # start() may already have given up on the others: seen here
            else:
                worker.ready.cancel()
        self._task(self._replace(worker))

    async def _replace(self, worker: _Worker) -> None:
        loop = asyncio.get_running_loop()
        code = await asyncio.to_thread(worker.proc.wait)
        if self._closing or worker not in self.workers:
            return
        if not worker.said_ready and not worker.restarted:  # could not load the files: again after a reload
            log.warning("worker %d exited (%s) before it was ready; not replaced", worker.index, code)
            worker.abandoned = True
            return
        if not worker.restarted:
            log.warning("worker %d exited (%s); its connections were dropped", worker.index, code)
        lasted = loop.time() - worker.started_at > 10.0
        failures = self._failures[worker.index] = 0 if lasted else self._failures.get(worker.index, 0) + 1
        await asyncio.sleep(min(30.0, 0.5 * 2 ** (failures - 1)) if failures else 0.0)  # no restart storm
        if self._closing or worker not in self.workers:
            return
        self._respawn(worker)

    def _respawn(self, worker: _Worker) -> None:
        try:
            self.workers[self.workers.index(worker)] = self._spawn(worker.index)
        except OSError as err:  # e.g. out of processes: serve with one worker less, until revive()
            log.warning("cannot start worker %d: %s", worker.index, err)
            worker.abandoned = True

    def restart(self, worker: _Worker) -> None:
        """Stop dealing ``worker`` connections and end it (killed if it does not stop); a fresh one follows."""
        worker.url = None
        worker.restarted = True
        if worker.proc.poll() is None:
            worker.proc.terminate()
            asyncio.get_running_loop().call_later(KILL_AFTER, _kill, worker.proc)

    def revive(self) -> None:
        """Start a worker in each slot left without one (it could not start: the files were broken then)."""
        if self._closing:
            return
        for w in list(self.workers):
            if w.abandoned:
                self._respawn(w)

    @property
    def live(self) -> int:
        """Workers taking connections now."""
        return sum(w.url is not None for w in self.workers)

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

    async def forward(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> None:
        """Send the same control request to every ready worker at once. A worker that refuses it (a 404 is fine
        with ``missing_ok``) or does not answer in time is restarted: the change is never half applied. A
        worker still starting gets run-time stubs when it catches up, and starts again if a reload came after it
        read the files."""
        reload = path == paths.RELOAD
        async with self.changes:
            if reload:
                self.version += 1
            targets = [(w, HostClient(w.url)) for w in self.workers if w.url]
            timeout = RELOAD_TIMEOUT if reload else CHANGE_TIMEOUT
            results = await asyncio.gather(
                *(asyncio.to_thread(c.request, method, path, body, timeout=timeout) for _, c in targets),
                return_exceptions=True,
            )
        for (w, _), result in zip(targets, results, strict=True):
            if isinstance(result, Refused) and result.status == 404 and missing_ok:
                continue
            if isinstance(result, Exception):
                why = result.reason if isinstance(result, ControlError) else result
                log.warning("worker %d did not take %s %s: %s; restarting it", w.index, method, path, why)
                self.restart(w)

    def _task(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL after 5 s)."""
        self._closing = True
        loop = asyncio.get_running_loop()
        for w in self.workers:
            if w.alive:
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
        for task in list(self._tasks):
            task.cancel()
        self.workers = []


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
