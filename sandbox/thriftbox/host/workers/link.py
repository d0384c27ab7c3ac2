"""A worker process's side of a host with workers: the connections the main process passes, and its exit."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

log = logging.getLogger("thriftbox.host.workers")


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
