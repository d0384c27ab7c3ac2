"""fbthrift IDL: the syntax Meta's compiler adds is read, Rocket-only methods are kept apart from served ones."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from thriftbox.cli.main import main
from thriftbox.idl import load_catalog
from thriftbox.idl.model import Kind

FEED = Path(__file__).parent / "fbthrift" / "feed.thrift"


def test_package_quoted_namespaces_and_structured_annotations_are_read() -> None:
    catalog = load_catalog([FEED])
    f = catalog.files[FEED.resolve()]
    assert f.package == "meta.com/test/feed"
    assert f.namespaces == {
        "cpp2": "test.feed",
        "go": "github.com/example/feed",
        "py3": "feed",
        "py": "tbfeed",
    }
    message = catalog.structs["feed.Message"]
    assert message.annotations["@cpp.Adapter"].startswith('{ name = "::feed::MessageAdapter"')
    assert message.fields[0].annotations == {"@cpp.Ref": ""}
    assert [f.name for f in message.fields] == ["text", "timestamp", "replyTo"]
    assert catalog.structs["feed.Busy"].kind == "exception"  # "safe transient client exception"
    assert catalog.enums["feed.Topic"].values == {"NEWS": 1, "SPORTS": 2}
    assert catalog.consts["feed.WELCOME"].value == {"text": "welcome", "timestamp": 0}  # Message{...}
    assert catalog.services["feed.Feed"].annotations == {"@cpp.ProcessInEbThreadUnsafe": ""}


def test_plain_methods_are_served_and_rocket_ones_kept_apart_with_their_types() -> None:
    svc = load_catalog([FEED]).services["feed.Feed"]
    assert list(svc.methods) == ["latest", "recent", "post"]  # idempotent and readonly: plain calls
    assert svc.methods["latest"].returns.kind is Kind.STRUCT
    assert svc.methods["recent"].args[0].annotations == {"@cpp.Ref": ""}
    kinds = {name: r.kind for name, r in svc.rocket.items()}
    assert kinds == {
        "subscribe": "stream",
        "subscribeFromLatest": "stream",
        "upload": "sink",
        "openCursor": "factory",
        "createCursor": "factory",  # from "performs Cursor;"
        "Cursor.next": "interaction",
        "Cursor.rest": "interaction",
    }
    subscribe = svc.rocket["subscribe"]
    assert subscribe.elem is not None
    assert subscribe.elem.name == "feed.Message"
    assert subscribe.signature() == "stream<Message> subscribe(1: Topic topic)"
    assert (
        svc.rocket["subscribeFromLatest"].signature()
        == "Message, stream<Message> subscribeFromLatest(1: Topic topic)"
    )
    assert svc.rocket["upload"].signature() == "sink<Message, i32> upload()"
    assert svc.rocket["openCursor"].signature() == "Cursor, list<Message> openCursor(1: i32 pageSize)"
    assert svc.rocket["openCursor"].interaction == "feed.Cursor"
    assert "stream method" in subscribe.reason
    assert "Rocket" in subscribe.reason
    assert "interaction Cursor" in svc.rocket["Cursor.next"].reason


def test_interactions_are_in_the_catalog() -> None:
    catalog = load_catalog([FEED])
    cursor = catalog.interactions["feed.Cursor"]
    assert list(cursor.methods) == ["Cursor.next", "Cursor.rest"]
    assert cursor.methods["Cursor.rest"].signature() == "stream<Message> rest()"
    assert "feed.Cursor" not in catalog.services


def test_an_extending_service_inherits_rocket_methods(tmp_path: Path) -> None:
    (tmp_path / "a.thrift").write_text(
        "service A { stream<i32> numbers() }\nservice B extends A { i32 one() }\n", encoding="utf-8"
    )
    b = load_catalog([tmp_path / "a.thrift"]).services["a.B"]
    assert list(b.methods) == ["one"]
    assert list(b.rocket) == ["numbers"]


def test_check_lists_rocket_methods_and_interactions_as_not_served() -> None:
    result = CliRunner().invoke(main, ["check", str(FEED)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Message latest(1: Topic topic) throws (Busy)" in out
    assert "stream<Message> subscribe(1: Topic topic)  (not served: stream, needs Rocket)" in out
    assert "sink<Message, i32> upload()  (not served: sink, needs Rocket)" in out
    assert "Cursor createCursor()  (not served: factory, needs Rocket)" in out
    assert "interaction feed.Cursor  (not served: needs Rocket)" in out
    assert "ok: 1 file(s), 1 service(s), 3 method(s), 7 not served (fbthrift Rocket only)" in out
