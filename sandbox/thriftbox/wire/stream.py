"""Non-blocking socket I/O on the asyncio loop, without asyncio's transport layer.

A Thrift call is one small read and one small write; asyncio's transports and protocols add several Python
frames to each, and their ``recv(256 KiB)`` allocates (and often maps) a fresh 256 KiB object per read.
:class:`Stream` reads with ``loop.add_reader`` into a buffer shared by the streams of one loop and writes
straight to the socket, buffering only what the kernel did not take (reading pauses while more than
:data:`HIGH_WATER` bytes wait). Subclasses implement :meth:`data_received`, :meth:`eof_received` and
:meth:`connection_lost`.
"""

from __future__ import annotations

import asyncio
import socket

READ_SIZE = 256 * 1024
HIGH_WATER = 4 * 2**20


class ReadBuffer:
    """Scratch space for reads; safe to share between streams that run on the same event loop."""

    def __init__(self, size: int = READ_SIZE) -> None:
        self.view = memoryview(bytearray(size))


class Stream:
    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, rbuf: ReadBuffer) -> None:
        self.loop = loop
        self.sock = sock
        self._rview = rbuf.view
        self.fd = sock.fileno()
        self.peer: tuple[str, int] = ("?", 0)
        try:
            addr = sock.getpeername()
        except OSError:
            addr = None
        if isinstance(addr, tuple) and len(addr) >= 2:
            self.peer = (str(addr[0]), int(addr[1]))
        self._out = bytearray()
        self._reading = True
        self._paused = False  # reading stopped until the output drains
        self._closing = False  # close once the output is flushed
        self.gone = False  # the socket is closed
        loop.add_reader(self.fd, self._readable)

    # -- for subclasses --------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        raise NotImplementedError

    def eof_received(self) -> None:
        """The peer shut down its sending side; the default closes once the output is flushed."""
        self.close()

    def connection_lost(self) -> None:
        """Called once, when the socket is closed for any reason."""

    # -- I/O -------------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.gone or self._closing:
            return
        if not self._out:
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.abort()
                return
            if sent == len(data):
                return
            data = data[sent:]
            self.loop.add_writer(self.fd, self._writable)
        self._out += data
        if self._reading and len(self._out) > HIGH_WATER:
            self._reading, self._paused = False, True
            self.loop.remove_reader(self.fd)

    def close(self) -> None:
        """Stop reading; close the socket once what was written has been sent."""
        if self.gone or self._closing:
            return
        self._closing = True
        self._reading = self._paused = False
        self.loop.remove_reader(self.fd)
        if not self._out:
            self.abort()

    def abort(self) -> None:
        """Close the socket now, dropping unsent output."""
        if self.gone:
            return
        self.gone = True
        self.loop.remove_reader(self.fd)
        self.loop.remove_writer(self.fd)
        self._out.clear()
        self.sock.close()
        self.connection_lost()

    def _readable(self) -> None:
        try:
            size = self.sock.recv_into(self._rview)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.abort()
            return
        if size:
            self.data_received(self._rview[:size].tobytes())
            return
        self._reading = False
        self.loop.remove_reader(self.fd)
        self.eof_received()

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.abort()
            return
        del self._out[:sent]
        if self._out:
            return
        self.loop.remove_writer(self.fd)
        if self._closing:
            self.abort()
        elif self._paused:
            self._reading, self._paused = True, False
            self.loop.add_reader(self.fd, self._readable)
