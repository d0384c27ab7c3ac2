"""One client connection: bytes in, calls to the App, replies out, in order.

The first bytes pick a :class:`~thriftbox.wire.framing.Reader`. Complete messages are dispatched eagerly:
``App.handle`` runs inside ``data_received`` and, when it returns without suspending, its reply is written at
once; when it suspends, the rest of the call runs as a task and later messages on this connection queue
behind it (pipelined calls are answered in order). Malformed input closes only this connection, after the
messages before it were answered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Coroutine, Generator
from struct import Struct
from struct import error as StructError
from typing import Any, Protocol

from thriftbox.wire import http, ttwitter
from thriftbox.wire.app import NOT_NOW, App, Binding, Call, Fault, Framing, NoReply, Reply, Success
from thriftbox.wire.codec import BinaryCodec, Codec, make_codec
from thriftbox.wire.detect import detect
from thriftbox.wire.dispatch import (
    CALL,
    INTERNAL_ERROR,
    INVALID_MESSAGE_TYPE,
    ONEWAY,
    PROTOCOL_ERROR,
    REPLY,
    UNKNOWN_METHOD,
    app_error,
    check_args,
    encode_reply,
)
from thriftbox.wire.framing import Message, Reader
from thriftbox.wire.ratelog import RateLimited
from thriftbox.wire.scan import Malformed, NeedMore, binary_envelope, binary_struct
from thriftbox.wire.stream import ReadBuffer, Stream


class Listener(Protocol):
    """What a connection needs of the server that accepted it (:class:`~thriftbox.wire.server.ThriftServer`)."""

    app: App  # swapped on reload: each call uses the App current when it starts
    max_frame: int
    idle_timeout: float  # seconds; a connection idle this long mid-message is closed
    max_buffered: int  # bytes of unfinished messages all connections may hold together
    buffered: int  # bytes of unfinished messages held now
    warnings: RateLimited  # about clients' bad input: a flood of them must not flood the log
    connections: set[Connection]


log = logging.getLogger("thriftbox.wire")
IDLE_TIMEOUT = 30.0  # seconds a connection may hold part of a message without sending more bytes
MAX_BUFFERED = 256 * 2**20  # bytes of unfinished messages a server holds for all its connections together
_I32 = Struct(">i")


class _Stop:
    """Close the connection here, in stream order (after answering the messages before)."""

    def __init__(self, reason: str, http_status: int = 0, detail: str = "", farewell: bytes = b"") -> None:
        self.reason = reason
        self.http_status = http_status
        self.detail = detail
        self.farewell = farewell  # written before closing (e.g. THeader's INVALID_TRANSFORM answer)


class _Resume:
    """Lets a task continue a coroutine whose first step already ran eagerly, outside any task."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Reply], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Reply]:
        coro, value = self.coro, self.first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task, e.g. cancellation
                try:
                    value = coro.throw(exc)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]


class Connection(Stream):
    """A client connection of a :class:`~thriftbox.wire.server.ThriftServer`."""

    def __init__(
        self, server: Listener, loop: asyncio.AbstractEventLoop, sock: socket.socket, rbuf: ReadBuffer
    ) -> None:
        super().__init__(loop, sock, rbuf)
        self.server = server
        self.buf = bytearray()
        self.reader: Reader | None = None
        self.framing: Framing = "buffered"
        self.lane = -1  # binary connections: where a message starts in a read (4 when framed)
        self.last_head, self.last_name = b"\xff", ""  # envelope bytes before the seqid of the last CALL
        self.codecs: dict[str, Codec] = {}
        self.binary = BinaryCodec()
        self.queue: deque[tuple[Message | _Stop, float]] = deque()
        self.busy = False  # a call is suspended; new messages queue behind it
        self.closed = False  # nothing more is read or answered
        self.eof = False
        self.task: asyncio.Task[None] | None = None
        self.idle_timer: asyncio.TimerHandle | None = None  # armed while part of a message is held
        self.last_data = 0.0  # loop time of the last bytes received while part of a message is held
        self.tls: str | None = None  # the TLS version, once a TLS connection's handshake is done
        self.held = 0  # len(self.buf) as counted in server.buffered
        server.connections.add(self)

    # -- Stream ----------------------------------------------------------------------------------------

    def connection_lost(self) -> None:
        self.server.connections.discard(self)
        self.server.buffered -= self.held
        self.held = 0
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None
        if self.buf and not self.closed:
            self._warn(f"connection closed in the middle of a message ({len(self.buf)} bytes unread)")
        self.closed = True

    def eof_received(self) -> None:
        self.eof = True
        if not self.busy:  # otherwise the running call closes when the queue is done
            self._close()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        lane = self.lane
        if lane >= 0 and not self.buf and not self.busy:
            # The usual read on a binary connection: one whole CALL (or frame) of a known method. Anything
            # unusual falls through to _receive and _run, which redo these steps with every check.
            end = len(data)
            if end <= self.server.max_frame and (lane == 0 or _I32.unpack_from(data)[0] == end - 4):
                try:
                    if data.startswith(self.last_head, lane):  # the same method as last time
                        name, mtype = self.last_name, CALL
                        at = lane + len(self.last_head) + 4
                        seqid = _I32.unpack_from(data, at - 4)[0]
                    else:
                        name, mtype, seqid, at = binary_envelope(data, lane, end)
                        if mtype == CALL:
                            self.last_head, self.last_name = data[lane : at - 4], name
                    stop = binary_struct(data, at, end)
                except (NeedMore, Malformed, StructError):
                    stop = -1
                if stop == end and mtype == CALL and ":" not in name:
                    app = self.server.app
                    payload = data[at:]
                    try:
                        binding = app.bind(None, name)
                        if binding is not None and not binding.oneway:
                            args = binding.args_cls()
                            self.binary.decode_args(payload, args)
                            if None in args.__dict__.values():  # maybe missing or mistyped
                                binding = None
                    except Exception:
                        binding = None
                    if binding is not None:
                        msg = tuple.__new__(Message, ("binary", name, CALL, seqid, payload, False))
                        received = time.perf_counter()
                        call = Call(
                            None,
                            name,
                            seqid,
                            args,
                            "binary",
                            self.framing,
                            self.peer,
                            received,
                            None,
                            len(payload),
                            self.tls,
                        )
                        if binding.answer is None or not self._answer_now(msg, call, binding):
                            self._start(msg, app, call, binding, self.binary)
                        return
        self._receive(data)

    def _receive(self, data: bytes) -> None:
        """Everything else: detection, partial and pipelined messages, other protocols, malformed input."""
        buf = self.buf
        src: bytes | bytearray = data
        if buf:
            buf += data
            src = buf
        messages: list[Message] = []
        stop: _Stop | None = None
        used = 0
        try:
            reader = self.reader
            if reader is None:
                reader = self.reader = detect(src, self.server.max_frame)
                if reader is not None:
                    self.framing = reader.framing
                    if reader.protocol == "binary":
                        self.lane = 4 if reader.framing == "framed" else 0
                        self.codecs["binary"] = self.binary
            if reader is not None:
                used = reader.feed(src, messages)
        except http.HttpError as exc:
            stop = _Stop(str(exc), exc.status, exc.detail)
        except Malformed as exc:
            stop = _Stop(str(exc), farewell=getattr(exc, "farewell", b""))
        if stop is not None:
            self.buf = bytearray()
        elif used < len(src):
            if src is buf:
                del buf[:used]
            else:
                self.buf = bytearray(data[used:] if used else data)
        elif buf:
            buf.clear()
        if self.buf:
            self._arm_idle()
        held = len(self.buf)
        server = self.server
        server.buffered += held - self.held
        self.held = held
        if held and server.buffered > server.max_buffered and stop is None:
            total = server.buffered
            self.buf = bytearray()
            server.buffered -= held
            self.held = 0
            limit = server.max_buffered
            stop = _Stop(f"unfinished messages of all connections reached {total:,} bytes (limit {limit:,})")
        self._dispatch(messages, stop)

    def _arm_idle(self) -> None:
        """Part of a message is held: close the connection if no more bytes come within the idle timeout."""
        self.last_data = self.loop.time()
        if self.idle_timer is None:
            self.idle_timer = self.loop.call_later(self.server.idle_timeout, self._idle)

    def _idle(self) -> None:
        self.idle_timer = None
        if self.closed or not self.buf:
            return
        left = self.last_data + self.server.idle_timeout - self.loop.time()
        if left > 0:
            self.idle_timer = self.loop.call_later(left, self._idle)
            return
        held = len(self.buf)
        self.buf = bytearray()
        self.server.buffered -= self.held
        self.held = 0
        timeout = self.server.idle_timeout
        self._stop(_Stop(f"no bytes for {timeout:g} s in the middle of a message ({held} bytes held)"))

    def _dispatch(self, messages: list[Message], stop: _Stop | None) -> None:
        """Run or queue ``messages`` in order, then act on ``stop``."""
        now = time.perf_counter()
        for msg in messages:
            if self.busy:
                self.queue.append((msg, now))
            elif not self.closed:
                self._run(msg, now)
        if stop is not None:
            if self.busy:
                self.queue.append((stop, now))
            else:
                self._stop(stop)

    # -- dispatch --------------------------------------------------------------------------------------

    def _run(self, msg: Message, received_at: float) -> None:
        """Decode, check and answer ``msg``; when the App suspends, a task finishes the call and whatever
        queued behind it. Answers what cannot reach the App itself (unknown method, bad arguments)."""
        protocol, name, mtype, seqid, payload, _ = msg
        codec = self.codecs.get(protocol)
        if codec is None:
            codec = self.codecs[protocol] = make_codec(protocol)
        service: str | None = None
        method = name
        if ":" in name:  # TMultiplexedProtocol: "Service:method"
            service, _, method = name.partition(":")
        if name == ttwitter.UPGRADE and ttwitter.can_upgrade(self.framing, protocol):
            self._upgrade(msg, codec)
            return
        if mtype != CALL and mtype != ONEWAY:
            self._error(
                msg, codec, method, INVALID_MESSAGE_TYPE, f"{name}: message type {mtype} is not a call"
            )
            return
        app = self.server.app
        try:
            binding = app.bind(service, method)
        except Exception as exc:
            self._crashed(msg, method, codec, exc)
            return
        if binding is None:
            self._error(msg, codec, method, UNKNOWN_METHOD, f"Unknown method '{name}'")
            return
        args = binding.args_cls()
        try:
            codec.decode_args(payload, args)
        except Exception as exc:
            reason = f"{name}: undecodable arguments: {type(exc).__name__}: {exc}"
            self._stop(_Stop(reason, 400, "the arguments do not decode"))
            return
        call = Call(
            service,
            method,
            seqid,
            args,
            protocol,
            self.framing,
            self.peer,
            received_at,
            getattr(msg, "ctx", None),  # THeader, TTwitter
            len(payload),
            self.tls,
        )
        if None in args.__dict__.values():  # maybe missing or mistyped: look closer
            problem = check_args(method, args, binding, codec, payload)
            if problem is not None:
                if mtype == ONEWAY or binding.oneway:
                    self._warn(f"dropping oneway call: {problem}")
                self._error(msg, codec, method, PROTOCOL_ERROR, problem, binding.oneway)
                rejected = getattr(app, "rejected", None)  # optional: let the App record what it never saw
                if rejected is not None:
                    try:
                        rejected(call, problem)
                    except Exception:
                        log.debug("App.rejected failed", exc_info=True)
                return
        self._start(msg, app, call, binding, codec)

    def _upgrade(self, msg: Message, codec: Codec) -> None:
        """Accept Finagle's TTwitter upgrade: reply, then read a RequestHeader before every message."""
        self._send(msg, codec.encode(msg.name, REPLY, msg.seqid, ttwitter.UpgradeReply()))
        protocol = codec.protocol
        self.reader = ttwitter.TTwitterReader(self.framing, protocol, self.server.max_frame)
        self.framing = "ttwitter"
        self.lane = -1

    def _answer_now(self, msg: Message, call: Call, binding: Binding) -> bool:
        """The binary fast lane's fast path: ``binding.answer`` gives the value at once; False when the call
        needs ``App.handle`` after all."""
        assert binding.answer is not None
        try:
            value = binding.answer(call)
        except Exception as exc:
            self._crashed(msg, call.method, self.binary, exc)
            return True
        if value is NOT_NOW:
            return False
        self._succeed(msg, call, binding, self.binary, value)
        return True

    def _start(self, msg: Message, app: App, call: Call, binding: Binding, codec: Codec) -> None:
        """Run ``app.handle`` eagerly; answer now if it returns without suspending, else in a task."""
        try:
            coro = app.handle(call)
            first = coro.send(None)
        except StopIteration as done:
            self._answer(msg, call, binding, codec, done.value)
            return
        except Exception as exc:
            self._crashed(msg, call.method, codec, exc)
            return
        self.busy = True
        self.task = self.loop.create_task(self._finish(coro, first, msg, call, binding, codec))

    async def _finish(
        self,
        coro: Coroutine[Any, Any, Reply],
        first: Any,
        msg: Message,
        call: Call,
        binding: Binding,
        codec: Codec,
    ) -> None:
        """Complete a suspended call, then run what queued behind it (until one suspends again)."""
        try:
            reply = await _Resume(coro, first)
        except Exception as exc:
            self._crashed(msg, call.method, codec, exc)
        else:
            self._answer(msg, call, binding, codec, reply)
        self.busy = False
        self.task = None
        queue = self.queue
        while queue and not self.busy and not self.closed:
            item, received_at = queue.popleft()
            if isinstance(item, _Stop):
                self._stop(item)
                break
            self._run(item, received_at)
        if self.eof and not self.busy:
            self._close()

    def _answer(self, msg: Message, call: Call, binding: Binding, codec: Codec, reply: Reply) -> None:
        if type(reply) is Success and msg.mtype == CALL and not binding.oneway:  # the usual case first
            self._succeed(msg, call, binding, codec, reply.value)
            return
        if self.closed:
            return
        if isinstance(reply, Fault):
            self._fault(reply)
            return
        if msg.mtype == ONEWAY or binding.oneway:
            self._send(msg, b"")
            return
        if isinstance(reply, NoReply):
            return
        try:
            payload = encode_reply(codec, call.method, msg.seqid, binding, reply)
        except Exception as exc:
            self._crashed(msg, call.method, codec, exc)
            return
        self._send(msg, payload)

    def _succeed(self, msg: Message, call: Call, binding: Binding, codec: Codec, value: object) -> None:
        """Write the REPLY carrying ``value`` in the method's ``success`` field (none for void methods)."""
        result = binding.result_cls()
        if 0 in result.thrift_spec:
            result.success = value
        try:
            payload = codec.encode(call.method, REPLY, msg.seqid, result)
        except Exception as exc:
            self._crashed(msg, call.method, codec, exc)
            return
        if self.framing == "buffered" and not self.closed:
            self.write(payload)
        else:
            self._send(msg, payload)

    def _crashed(self, msg: Message, method: str, codec: Codec, exc: Exception) -> None:
        """An exception from the App or the encoder: INTERNAL_ERROR, and the connection stays usable."""
        text = f"{method}: {type(exc).__name__}: {exc}"
        self.server.warnings.warning("%s:%d: internal error in %s", self.peer[0], self.peer[1], text)
        log.debug("traceback of the internal error in %s", method, exc_info=exc)
        self._error(msg, codec, method, INTERNAL_ERROR, text)

    def _error(
        self, msg: Message, codec: Codec, method: str, kind: int, text: str, oneway: bool = False
    ) -> None:
        """Answer with ``TApplicationException(kind, text)``; oneway calls get no answer."""
        if msg.mtype == ONEWAY or oneway:
            self._send(msg, b"")
            return
        try:
            payload = app_error(codec, method, msg.seqid, kind, text)
        except Exception:  # a codec that cannot write even this (e.g. an unencodable name)
            payload = app_error(codec, "", msg.seqid, kind, text.encode("ascii", "replace").decode())
        self._send(msg, payload)

    def _send(self, msg: Message, payload: bytes) -> None:
        """Write one reply in the connection's framing (an empty payload: only HTTP answers, with no body)."""
        if self.closed:
            return
        framing = self.framing
        if framing == "buffered":
            if payload:
                self.write(payload)
        elif framing == "framed":
            if payload:
                self.write(_I32.pack(len(payload)) + payload)
        elif framing == "http":
            self.write(http.response(200, payload, close=msg.close_after))
            if msg.close_after:
                self._close()
        elif payload and self.reader is not None:  # header, zlib, ttwitter: the reader frames the reply
            self.write(self.reader.frame_reply(msg, payload))

    # -- closing ---------------------------------------------------------------------------------------

    def _fault(self, fault: Fault) -> None:
        if fault.kind == "garbage":
            self.write(os.urandom(64 + os.urandom(1)[0]))
        if fault.kind == "stall":
            self.closed = True
            self.loop.call_later(max(fault.seconds, 0.0), self.close)
            return
        self._close()

    def _stop(self, stop: _Stop) -> None:
        self._warn(f"closing the connection: {stop.reason}")
        if stop.http_status and self.framing == "http":
            body = f"{stop.detail}\n".encode()
            self.write(http.response(stop.http_status, body, close=True))
        elif stop.farewell:
            self.write(stop.farewell)
        self._close()

    def _close(self) -> None:
        self.closed = True
        self.queue.clear()
        self.close()

    def shutdown(self) -> None:
        """The server is closing: drop the connection and cancel the call in flight."""
        self.closed = True
        if self.task is not None:
            self.task.cancel()
        self.abort()

    def _warn(self, text: str) -> None:
        self.server.warnings.warning("%s:%d: %s", self.peer[0], self.peer[1], text)
