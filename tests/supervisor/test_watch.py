"""The file watcher: real files, the real native observer (inotify) and the polling fallback."""

from __future__ import annotations

import errno
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from thriftbox.errors import ConfigError
from thriftbox.supervisor import watch
from thriftbox.supervisor.watch import Watcher, is_relevant, watch_targets

TIMEOUT = 5.0  # generous for a loaded CI machine; batches normally arrive in a fraction of a second
DEBOUNCE = 0.05
POLL = 0.1


class Batches:
    """An ``on_batch`` callback that records batches for the test thread to wait on."""

    def __init__(self) -> None:
        self._queue: queue.Queue[set[Path]] = queue.Queue()

    def __call__(self, paths: set[Path]) -> None:
        self._queue.put(set(paths))

    def poll(self, timeout: float) -> set[Path] | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def next(self, timeout: float = TIMEOUT) -> set[Path]:
        batch = self.poll(timeout)
        assert batch is not None, f"no batch within {timeout}s"
        return batch

    def assert_none(self, within: float) -> None:
        try:
            batch = self._queue.get(timeout=within)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected batch {sorted(map(str, batch))}")


StartWatcher = Callable[..., tuple[Watcher, Batches]]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path.resolve() / "idl"
    root.mkdir()
    (root / "users.thrift").write_text("service Users {}\n")
    return root


@pytest.fixture(params=["native", "polling"])
def start_watcher(request: pytest.FixtureRequest, folder: Path) -> Iterator[StartWatcher]:
    """Starts watchers over ``folder`` in the parametrized mode and stops them after the test."""
    polling = request.param == "polling"
    started: list[Watcher] = []

    def start(
        debounce: float = DEBOUNCE, on_batch: Callable[[set[Path]], None] | None = None
    ) -> tuple[Watcher, Batches]:
        batches = Batches()
        watcher = Watcher(
            [folder], on_batch or batches, debounce=debounce, force_polling=polling, poll_interval=POLL
        )
        watcher.start()
        started.append(watcher)
        assert watcher.polling is polling
        return watcher, batches

    yield start
    for watcher in started:
        watcher.stop()


def quiet_period(watcher: Watcher) -> float:
    """Long enough that a second batch would have arrived if one were coming."""
    return 4 * DEBOUNCE + (3 * POLL if watcher.polling else 0.1)


def test_save_in_place_is_one_batch_with_the_file(start_watcher: StartWatcher, folder: Path) -> None:
    watcher, batches = start_watcher()
    target = folder / "users.thrift"
    with target.open("w") as f:
        f.write("service Users {\n")
        f.flush()
        f.write("  void ping()\n}\n")
    assert batches.next() == {target}
    batches.assert_none(quiet_period(watcher))


def test_three_quick_writes_are_exactly_one_batch(start_watcher: StartWatcher, folder: Path) -> None:
    watcher, batches = start_watcher(debounce=0.3)  # the writes below are well inside the quiet period
    target = folder / "users.thrift"
    for i in range(3):
        target.write_text(f"service Users {{ i32 v{i}() }}\n")
    assert batches.next() == {target}
    batches.assert_none(quiet_period(watcher) + 0.3)


def test_a_steady_stream_of_writes_still_delivers_batches(folder: Path) -> None:
    batches = Batches()
    target = folder / "users.thrift"
    with Watcher([folder], batches, debounce=0.1):  # a batch is due 2 s after its first event at the latest
        stop_at = time.monotonic() + 3.0
        delivered_while_writing = False
        while time.monotonic() < stop_at and not delivered_while_writing:
            target.write_text(f"// {time.monotonic()}\n")
            delivered_while_writing = batches.poll(timeout=0.02) == {target}
    assert delivered_while_writing


def test_vim_style_save_reports_only_the_real_file(start_watcher: StartWatcher, folder: Path) -> None:
    watcher, batches = start_watcher()
    target = folder / "users.thrift"
    swap = folder / ".users.thrift.swp"
    swap.write_bytes(b"swap")
    probe = folder / "4913"  # vim checks that it may create files in the folder
    probe.write_text("")
    probe.unlink()
    backup = folder / "users.thrift~"
    os.rename(target, backup)
    target.write_text("service Users { void ping() }\n")
    backup.unlink()
    swap.unlink()
    assert batches.next() == {target}
    batches.assert_none(quiet_period(watcher))


@pytest.mark.parametrize(
    ("temp_name", "old_name"),
    [("users.thrift.tmp", None), ("users.thrift___jb_tmp___", "users.thrift___jb_old___")],
    ids=["atomic-replace", "jetbrains-safe-write"],
)
def test_temp_file_renamed_over_reports_the_destination(
    start_watcher: StartWatcher, folder: Path, temp_name: str, old_name: str | None
) -> None:
    watcher, batches = start_watcher()
    target = folder / "users.thrift"
    temp = folder / temp_name
    temp.write_text("service Users { void ping() }\n")
    if old_name:
        os.rename(target, folder / old_name)
    os.replace(temp, target)
    if old_name:
        (folder / old_name).unlink()
    assert batches.next() == {target}
    batches.assert_none(quiet_period(watcher))


def test_temporary_and_unrelated_files_alone_make_no_batch(start_watcher: StartWatcher, folder: Path) -> None:
    watcher, batches = start_watcher()
    for name in [".users.thrift.swp", "users.thrift~", "#users.thrift#", ".#users.thrift", "notes.txt"]:
        (folder / name).write_text("x")
    (folder / "api.thrift").mkdir()  # a folder, whatever its name
    batches.assert_none(quiet_period(watcher))
    (folder / "users.thrift").write_text("service Users {}\n")  # the watcher is still alive
    assert batches.next() == {folder / "users.thrift"}


def test_deleted_file_is_reported(start_watcher: StartWatcher, folder: Path) -> None:
    _, batches = start_watcher()
    (folder / "users.thrift").unlink()
    assert batches.next() == {folder / "users.thrift"}


def test_rename_reports_old_and_new_name(start_watcher: StartWatcher, folder: Path) -> None:
    _, batches = start_watcher()
    os.rename(folder / "users.thrift", folder / "accounts.thrift")
    assert batches.next() == {folder / "users.thrift", folder / "accounts.thrift"}


def test_new_file_in_new_subfolder_is_reported(start_watcher: StartWatcher, folder: Path) -> None:
    _, batches = start_watcher()
    sub = folder / "ads" / "v1"
    sub.mkdir(parents=True)
    (sub / "ads.thrift").write_text("service Ads {}\n")
    (sub / "ads.yaml").write_text("Ads: {}\n")
    batch = batches.next()
    while batch != {sub / "ads.thrift", sub / "ads.yaml"}:  # the two files may land in two batches
        assert batch <= {sub / "ads.thrift", sub / "ads.yaml"}
        batch |= batches.next()


def test_exception_in_on_batch_is_logged_and_watching_goes_on(
    start_watcher: StartWatcher, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batches = Batches()
    calls: list[set[Path]] = []

    def on_batch(paths: set[Path]) -> None:
        calls.append(paths)
        if len(calls) == 1:
            raise RuntimeError("reload exploded")
        batches(paths)

    start_watcher(on_batch=on_batch)
    target = folder / "users.thrift"
    with caplog.at_level(logging.ERROR, logger="thriftbox.supervisor.watch"):
        target.write_text("service Users { void a() }\n")
        for _ in range(int(TIMEOUT / 0.02)):
            if calls:
                break
            threading.Event().wait(0.02)
        target.write_text("service Users { void b() }\n")
        assert batches.next() == {target}
    assert "reload exploded" in caplog.text


@pytest.mark.parametrize(
    ("method", "code"), [("schedule", errno.EMFILE), ("start", errno.ENOSPC)], ids=["EMFILE", "ENOSPC"]
)
def test_exhausted_watch_limit_falls_back_to_polling(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, folder: Path, method: str, code: int
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(f"thriftbox.supervisor.watch.Observer.{method}", exhausted)
    batches = Batches()
    watcher = Watcher([folder, folder / "users.thrift"], batches, debounce=DEBOUNCE, poll_interval=POLL)
    with caplog.at_level(logging.WARNING, logger="thriftbox.supervisor.watch"), watcher:
        assert watcher.polling
        (folder / "users.thrift").write_text("service Users { void ping() }\n")
        assert batches.next() == {folder / "users.thrift"}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "polling" in warnings[0].getMessage()


def test_other_errors_from_the_observer_are_config_errors(
    monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(folder))

    monkeypatch.setattr("thriftbox.supervisor.watch.Observer.start", denied)
    watcher = Watcher([folder], Batches())
    with pytest.raises(ConfigError, match="Permission denied"):
        watcher.start()
    watcher.stop()


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    watcher = Watcher([tmp_path / "nope"], Batches())
    with pytest.raises(ConfigError, match="no such file or folder"):
        watcher.start()
    watcher.stop()


def test_stop_is_idempotent_and_a_watcher_starts_once(folder: Path) -> None:
    threads_before = set(threading.enumerate())
    watcher = Watcher([folder], Batches())
    watcher.stop()  # before start: nothing to do
    watcher.start()
    with pytest.raises(RuntimeError):
        watcher.start()
    watcher.stop()
    watcher.stop()
    assert set(threading.enumerate()) <= threads_before  # no thread left behind


@pytest.mark.parametrize(
    ("name", "relevant"),
    [
        ("users.thrift", True),
        ("Users.THRIFT", True),
        ("users.yaml", True),
        ("users.yml", True),
        ("users.json", True),
        ("users.txt", False),
        ("users.thrift~", False),
        (".users.thrift.swp", False),
        ("users.thrift___jb_tmp___", False),
        ("users.thrift___jb_old___", False),
        ("4913", False),
        (".#users.thrift", False),
        ("#users.thrift#", False),
        ("users.thrift.tmp", False),
        ("._users.thrift", False),
    ],
)
def test_is_relevant(name: str, relevant: bool) -> None:
    assert is_relevant(Path("/idl") / name, watch.DEFAULT_SUFFIXES) is relevant


def test_is_relevant_honours_the_suffixes() -> None:
    assert is_relevant(Path("a.proto"), {".proto"})
    assert not is_relevant(Path("a.thrift"), {".proto"})


def test_watch_targets_collapse_nested_folders_and_watch_files_through_their_folder(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "idl" / "sub").mkdir(parents=True)
    (root / "shared").mkdir()
    for f in ["idl/sub/a.thrift", "shared/common.thrift", "shared/other.thrift"]:
        (root / f).write_text("")
    targets = watch_targets(
        [root / "idl", root / "idl" / "sub", root / "idl/sub/a.thrift", root / "shared/common.thrift"]
    )
    assert targets == [(root / "idl", True), (root / "shared", False)]
