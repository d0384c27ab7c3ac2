"""fbthrift IDL served for real: ``thriftbox serve`` of the corpus' chatroom.thrift and a held-out fbthrift file,
called by Apache's Python library (code from Apache's compiler for what such a client sees of the IDL) over
plain binary and THeader. Plain methods answer; a stream, sink or interaction call gets a clear error."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from thrift.protocol import TBinaryProtocol
from thrift.protocol.THeaderProtocol import THeaderProtocol
from thrift.Thrift import TApplicationException, TMessageType
from thrift.transport import TSocket, TTransport
from thrift.transport.THeaderTransport import THeaderClientType, THeaderSubprotocolID

from tests.corpus import CORPUS, needs_corpus
from tests.serve_support import Served, cli_env, serve, thriftbox_cmd
from tests.wire.apache import generate

FBTHRIFT = Path(__file__).parents[1] / "idl" / "fbthrift"
CHATROOM = CORPUS / "facebook__fbthrift/thrift/example/if/chatroom.thrift"

pytestmark = needs_corpus


def apache_view(fbthrift_idl: str, package: str) -> str:
    """chatroom.thrift as Apache's compiler accepts it: without its fbthrift-only lines (package, the
    namespaces), which change nothing on the wire."""
    kept = [ln for ln in fbthrift_idl.splitlines() if not re.match(r"\s*(package|namespace)\b", ln)]
    return f"namespace py {package}\n" + "\n".join(kept)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("fbthrift-serve")
    idl = root / "idl"
    idl.mkdir()
    shutil.copy(CHATROOM, idl / "chatroom.thrift")
    shutil.copy(FBTHRIFT / "feed.thrift", idl / "feed.thrift")
    with serve(root, ["idl/"]) as s:
        yield s


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Any:
    text = apache_view(CHATROOM.read_text(encoding="utf-8"), "tbchat_apache")
    return generate(
        tmp_path_factory.mktemp("chat-gen"), text, "tbchat_apache", ("ChatRoomService", "Echo", "ttypes")
    )


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    text = (FBTHRIFT / "feed_apache.thrift").read_text(encoding="utf-8")
    return generate(tmp_path_factory.mktemp("feed-gen"), text, "tbfeed_apache", ("Feed", "ttypes"))


def protocol(port: int, wire: str) -> tuple[Any, Any]:
    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(5000)
    if wire == "header":  # fbthrift's own default
        trans: Any = TTransport.TBufferedTransport(sock)
        proto: Any = THeaderProtocol(trans, [THeaderClientType.HEADERS], THeaderSubprotocolID.COMPACT)
    else:
        trans = TTransport.TFramedTransport(sock)
        proto = TBinaryProtocol.TBinaryProtocolAccelerated(trans)
    trans.open()
    return proto, trans


@pytest.mark.parametrize("wire", ["framed-binary", "header"])
def test_the_corpus_chatroom_serves_its_methods(served: Served, chat: Any, wire: str) -> None:
    proto, trans = protocol(served.port("chatroom.ChatRoomService"), wire)
    try:
        client = chat.ChatRoomService.Client(proto)
        client.initialize()
        answer = client.getMessages(chat.ttypes.GetMessagesRequest(token=chat.ttypes.IndexToken(index=3)))
        assert isinstance(answer, chat.ttypes.GetMessagesResponse)
        assert answer.messages
        assert all(isinstance(m.message, str) and m.sender for m in answer.messages)
        assert isinstance(answer.token.index, int)
        client.sendMessage(chat.ttypes.SendMessageRequest(message="hi", sender="ana"))
    finally:
        trans.close()
    proto, trans = protocol(served.port("chatroom.Echo"), wire)
    try:
        assert isinstance(chat.Echo.Client(proto).echo("hello"), str)
    finally:
        trans.close()


@pytest.mark.parametrize("wire", ["framed-binary", "header"])
def test_plain_fbthrift_methods_answer_and_rocket_ones_say_why_not(
    served: Served, feed: Any, wire: str
) -> None:
    proto, trans = protocol(served.port("feed.Feed"), wire)
    try:
        client = feed.Feed.Client(proto)
        latest = client.latest(feed.ttypes.Topic.NEWS)  # "idempotent", declared after structured annotations
        assert isinstance(latest, feed.ttypes.Message)
        assert isinstance(latest.text, str)
        assert all(isinstance(m, feed.ttypes.Message) for m in client.recent(3))
        for call, what in [
            (lambda: client.subscribe(feed.ttypes.Topic.SPORTS), "a stream method"),
            (lambda: client.openCursor(10), "the factory of interaction Cursor"),
            (lambda: client.createCursor(), "the factory of interaction Cursor"),
        ]:
            with pytest.raises(TApplicationException) as info:
                call()
            assert info.value.type == TApplicationException.UNSUPPORTED_CLIENT_TYPE
            assert what in str(info.value.message)
            assert "Rocket transport, which thriftbox does not speak" in str(info.value.message)
        assert client.recent(1) is not None  # the connection goes on
    finally:
        trans.close()


def test_an_interaction_method_called_by_its_rocket_name_gets_the_reason(served: Served) -> None:
    """Rocket clients name an interaction's method "Interaction.method"; sent so over framed binary."""
    proto, trans = protocol(served.port("feed.Feed"), "framed-binary")
    try:
        proto.writeMessageBegin("Cursor.next", TMessageType.CALL, 7)
        proto.writeStructBegin("next_args")
        proto.writeFieldStop()
        proto.writeStructEnd()
        proto.writeMessageEnd()
        trans.flush()
        name, mtype, seqid = proto.readMessageBegin()
        error = TApplicationException()
        error.read(proto)
        proto.readMessageEnd()
    finally:
        trans.close()
    assert (name, mtype, seqid) == ("Cursor.next", TMessageType.EXCEPTION, 7)
    assert error.type == TApplicationException.UNSUPPORTED_CLIENT_TYPE
    assert "'Cursor.next' is a method of interaction Cursor" in str(error.message)


def test_call_names_why_a_stream_method_cannot_be_called(served: Served) -> None:
    done = subprocess.run(
        thriftbox_cmd("call", "feed.Feed.subscribe", '{"topic": "NEWS"}'),
        cwd=served.root,
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "feed.Feed: 'subscribe' is a stream method" in done.stderr
    assert "Rocket transport" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_journal_shows_the_refused_stream_call(served: Served, feed: Any) -> None:
    proto, trans = protocol(served.port("feed.Feed"), "framed-binary")
    try:
        with pytest.raises(TApplicationException):
            feed.Feed.Client(proto).subscribe(feed.ttypes.Topic.NEWS)
    finally:
        trans.close()
    proc = subprocess.run(
        thriftbox_cmd("journal", "feed.Feed", "--json"),
        cwd=served.root,
        env=cli_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"method": "subscribe"' in proc.stdout
    assert '"source": "unserved"' in proc.stdout
    assert "UNSUPPORTED_CLIENT_TYPE" in proc.stdout
