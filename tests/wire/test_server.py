"""The server's life: ports, readiness probe, hot swap of the App, concurrency, idle connections."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from thriftpy2.thrift import TMessageType

from tests.wire.test_support import EchoApp, RawClient, binary_call, load_client_module
from thriftbox.client.probe import probe
from thriftbox.errors import PortInUse
from thriftbox.wire import ServerThread, ThriftServer

tp = load_client_module()


@pytest.fixture
def thread() -> Iterator[ServerThread]:
    with ServerThread() as t:
        yield t


def test_hot_swap_keeps_port_and_connection(thread: ServerThread) -> None:
    """A call in flight finishes with the old App; the next message on the same connection uses the new."""
    old, new = EchoApp("old"), EchoApp("new")
    server = thread.serve(old)
    port = server.port
    with RawClient(port) as client:
        client.send(binary_call("slow", tp.Echo.slow_args(ms=400), seqid=1))
        deadline = time.monotonic() + 3
        while not old.calls and time.monotonic() < deadline:  # the slow call is running
            time.sleep(0.01)
        server.app = new
        client.send(binary_call("getPoint", tp.Echo.getPoint_args(id=1, hint=""), seqid=2))
        _, _, seqid, slow = client.reply(tp.Echo.slow_result)
        assert (seqid, slow.success) == (1, 400)
        _, _, seqid, point = client.reply(tp.Echo.getPoint_result)
        assert (seqid, point.success.label) == (2, "new")
    assert [c.method for c in old.calls] == ["slow"]
    assert [c.method for c in new.calls] == ["getPoint"]
    assert server.port == port


def test_slow_call_does_not_block_other_connections(thread: ServerThread) -> None:
    server = thread.serve(EchoApp())
    with RawClient(server.port) as slow, RawClient(server.port) as fast:
        slow.send(binary_call("slow", tp.Echo.slow_args(ms=1500), seqid=1))
        t0 = time.monotonic()
        fast.send(binary_call("ping", tp.Echo.ping_args(), seqid=2))
        assert fast.reply(tp.Echo.ping_result)[1] == TMessageType.REPLY
        assert time.monotonic() - t0 < 1.0
        assert slow.reply(tp.Echo.slow_result)[3].success == 1500


def test_concurrent_clients_get_their_own_answers(thread: ServerThread) -> None:
    server = thread.serve(EchoApp())
    errors: list[str] = []

    def run(worker: int) -> None:
        with RawClient(server.port) as client:
            for i in range(50):
                n = worker * 1000 + i
                client.send(binary_call("getPoint", tp.Echo.getPoint_args(id=n, hint="x" * i), seqid=n))
                _, _, seqid, result = client.reply(tp.Echo.getPoint_result)
                if (seqid, result.success.x, result.success.y) != (n, n, i):
                    errors.append(f"worker {worker} call {i}: {seqid} {result.success}")

    workers = [threading.Thread(target=run, args=(w,)) for w in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []


def test_no_idle_timeout(thread: ServerThread) -> None:
    """Pooled clients (Finagle) keep connections open for long; the server never times them out."""
    server = thread.serve(EchoApp())
    with RawClient(server.port) as client:
        time.sleep(4)
        client.send(binary_call("ping", tp.Echo.ping_args(), seqid=3))
        assert client.reply(tp.Echo.ping_result)[2] == 3


def test_port_in_use_names_host_and_port(thread: ServerThread) -> None:
    server = thread.serve(EchoApp())
    with pytest.raises(PortInUse) as caught:
        thread.serve(EchoApp(), "127.0.0.1", server.port)
    assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert caught.value.hint


def test_port_held_with_so_reuseport_is_still_in_use(thread: ServerThread) -> None:
    """thriftpy2's server sockets set SO_REUSEPORT; binding next to one must fail, not share the port."""
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        with pytest.raises(PortInUse):
            thread.serve(EchoApp(), "127.0.0.1", holder.getsockname()[1])


def test_probe(thread: ServerThread) -> None:
    server = thread.serve(EchoApp())
    assert probe("127.0.0.1", server.port, timeout=2)
    port = server.port
    thread.stop(server)
    assert not probe("127.0.0.1", port, timeout=0.5)


def test_probe_refuses_a_server_that_is_not_thrift() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer_http() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

        t = threading.Thread(target=answer_http)
        t.start()
        assert not probe("127.0.0.1", listener.getsockname()[1], timeout=2)
        t.join()


def test_close_drops_open_connections(thread: ServerThread) -> None:
    server = thread.serve(EchoApp())
    with RawClient(server.port) as client:
        client.send(binary_call("slow", tp.Echo.slow_args(ms=5000)))
        time.sleep(0.1)
        thread.stop(server)
        assert client.closed_by_server(timeout=2)


def test_async_api_on_localhost() -> None:
    """``async with ThriftServer(...)``; "localhost" listens on one port for every address it names."""

    async def main() -> None:
        async with ThriftServer(EchoApp(), "localhost", 0) as server:
            assert server.port > 0
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(binary_call("ping", tp.Echo.ping_args(), seqid=9))
            reply = await reader.read(100)
            assert b"ping" in reply
            writer.close()
            await writer.wait_closed()

    asyncio.run(main())


@pytest.mark.parametrize("framing", ["buffered", "framed"])
def test_large_message_in_many_reads(thread: ServerThread, framing: str) -> None:
    """Megabytes of arguments arrive in many reads; the buffered scan resumes instead of starting over."""
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

    server = thread.serve(EchoApp())
    trans = TFramedTransportFactory() if framing == "framed" else TBufferedTransportFactory()
    client = make_client(tp.Echo, "127.0.0.1", server.port, trans_factory=trans, timeout=20000)
    try:
        bag = tp.Bag(
            data=bytes(range(256)) * 16384,  # 4 MiB
            nums=list(range(200_000)),
            path=[tp.Point(x=i, y=-i) for i in range(20_000)],
            points={str(i): tp.Point(x=i) for i in range(5_000)},
        )
        t0 = time.monotonic()
        assert client.echo(bag) == bag
        assert time.monotonic() - t0 < 20
    finally:
        client.close()


def test_client_that_does_not_read_is_paused_then_resumed(thread: ServerThread) -> None:
    """A client sending far more than it reads fills the server's output; reading pauses, then all the
    replies arrive, in order, once the client reads."""
    server = thread.serve(EchoApp())
    big = tp.Echo.echo_args(bag=tp.Bag(data=b"x" * 100_000))
    request = b"".join(binary_call("echo", big, seqid=i) for i in range(150))  # 15 MB of replies
    with RawClient(server.port) as client:
        sender = threading.Thread(target=client.send, args=(request,))
        sender.start()
        time.sleep(0.5)  # let the server's output back up
        for i in range(150):
            _, _, seqid, result = client.reply(tp.Echo.echo_result)
            assert (seqid, len(result.success.data)) == (i, 100_000)
        sender.join()
