"""Servers on an event loop in a background thread, for tests and other synchronous callers."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from thriftbox.wire.app import App
from thriftbox.wire.connection import IDLE_TIMEOUT, MAX_BUFFERED
from thriftbox.wire.server import DEFAULT_MAX_FRAME, ThriftServer

T = TypeVar("T")


class ServerThread:
    """An event loop in a daemon thread hosting any number of :class:`ThriftServer` s.

    ::

        with ServerThread() as thread:
            server = thread.serve(app)          # port 0: any free port
            client = make_client(..., port=server.port)
            server.app = other_app              # hot swap, from any thread
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.servers: list[ThriftServer] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name="thriftbox-wire", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the thread's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def serve(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        idle_timeout: float = IDLE_TIMEOUT,
        max_buffered: int = MAX_BUFFERED,
        tls: ssl.SSLContext | None = None,
    ) -> ThriftServer:
        """Start a server for ``app``; raises :class:`~thriftbox.errors.PortInUse` like ``start``."""
        server = ThriftServer(
            app,
            host,
            port,
            max_frame=max_frame,
            idle_timeout=idle_timeout,
            max_buffered=max_buffered,
            tls=tls,
        )
        self.run(server.start())
        self.servers.append(server)
        return server

    def stop(self, server: ThriftServer) -> None:
        self.run(server.close())
        self.servers.remove(server)

    def close(self) -> None:
        """Close every server, stop the loop and join the thread."""
        if self.loop.is_closed():
            return
        for server in list(self.servers):
            self.stop(server)
        self.run(_cancel_others())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _cancel_others() -> None:
    """Cancel what still runs on the loop (calls of closed connections), so it closes without warnings."""
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
