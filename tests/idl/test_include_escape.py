"""IDL that points the loader at files that are not Thrift: such an include may not leave the folders given, and
no error ever shows what a file that is not Thrift holds. And a path with no .thrift file at all is an error
for every command alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from thriftbox.cli import main
from thriftbox.errors import IdlError
from thriftbox.idl import load_catalog
from thriftbox.supervisor.config import ServeConfig
from thriftbox.supervisor.session import Session

SECRET = "root:x:0:0:SECRET-1234:/root:/bin/bash\nhunter2 = 42\n"


def project(tmp_path: Path, main_idl: str) -> tuple[Path, Path]:
    """``tmp/project/idl/main.thrift`` holding ``main_idl``, and a secret file outside: ``tmp/secret/passwd``."""
    idl = tmp_path / "project" / "idl"
    idl.mkdir(parents=True)
    (idl / "main.thrift").write_text(main_idl, encoding="utf-8")
    secret = tmp_path / "secret" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET, encoding="utf-8")
    return idl, secret


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.output


def assert_nothing_of_the_secret(text: str) -> None:
    for word in ("root:x", "SECRET", "bin/bash", "hunter2"):
        assert word not in text, text


def test_a_non_thrift_include_outside_the_folders_is_refused_unread(tmp_path: Path) -> None:
    idl, _ = project(tmp_path, 'struct A {}\ninclude "../../secret/passwd"\n')
    with pytest.raises(IdlError) as info:
        load_catalog([idl])
    err = info.value
    assert "include '../../secret/passwd'" in err.message
    assert "leaves" in err.message
    assert err.hint is not None
    assert ".thrift" in err.hint
    assert "--include-dir" in err.hint
    assert err.location is not None
    assert (err.location.path, err.location.line, err.location.col) == ((idl / "main.thrift").resolve(), 2, 9)
    code, output = check(str(idl))
    assert code == 1
    assert_nothing_of_the_secret(output)
    assert 'include "../../secret/passwd"' in output  # the offending line shown is the include itself


@pytest.mark.skipif(not Path("/etc/passwd").is_file(), reason="no /etc/passwd here")
def test_the_issue_s_etc_passwd_include_shows_nothing_of_it(tmp_path: Path) -> None:
    up = "../" * (len(tmp_path.parts) + 5)  # past the root: .. of / is /
    idl, _ = project(tmp_path, f'include "{up}etc/passwd"\n')
    first = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[0]
    code, output = check(str(idl))
    assert code == 1
    assert "leaves" in output
    assert first not in output
    assert ":0:0:" not in output


def test_a_symlink_named_thrift_that_leads_out_is_refused_as_its_target(tmp_path: Path) -> None:
    idl, secret = project(tmp_path, 'include "evil.thrift"\n')
    (idl / "evil.thrift").symlink_to(secret)
    code, output = check(str(idl / "main.thrift"))
    assert code == 1
    assert "include 'evil.thrift' leaves" in output
    assert_nothing_of_the_secret(output)


def test_a_file_that_is_not_thrift_inside_the_folders_is_read_but_never_shown(tmp_path: Path) -> None:
    idl, _ = project(tmp_path, 'include "notes.txt"\n')
    (idl / "notes.txt").write_text(SECRET, encoding="utf-8")
    with pytest.raises(IdlError) as info:
        load_catalog([idl])
    err = info.value
    assert err.location is not None
    assert (err.location.path.name, err.location.line) == ("notes.txt", 1)
    assert err.location.source_line() is None  # the renderer shows no line of it
    assert "not a .thrift file" in err.message
    code, output = check(str(idl))
    assert code == 1
    assert "notes.txt:1:" in output
    assert_nothing_of_the_secret(output)


def test_a_file_that_is_not_thrift_given_by_name_is_not_shown_either(tmp_path: Path) -> None:
    _, secret = project(tmp_path, "")
    code, output = check(str(secret))
    assert code == 1
    assert "passwd:1:" in output
    assert_nothing_of_the_secret(output)


def test_a_discovered_thrift_symlink_to_a_file_that_is_not_thrift_is_not_shown(tmp_path: Path) -> None:
    idl, secret = project(tmp_path, "struct A {}\n")
    (idl / "b.thrift").symlink_to(secret)
    code, output = check(str(idl))
    assert code == 1
    assert_nothing_of_the_secret(output)


def test_thrift_files_outside_the_folders_are_still_included(tmp_path: Path) -> None:
    """Apache's compiler reads them; the docs promise sibling folders (``include "../common/base.thrift"``)."""
    idl, _ = project(tmp_path, 'include "../common/base.thrift"\nstruct S { 1: base.Id id }\n')
    (idl.parent / "common").mkdir()
    (idl.parent / "common" / "base.thrift").write_text("typedef i64 Id\n", encoding="utf-8")
    assert load_catalog([idl]).struct("main.S").fields[0].type.alias == "base.Id"


def test_an_include_that_is_not_thrift_from_an_include_dir_is_allowed(tmp_path: Path) -> None:
    idl, _ = project(tmp_path, 'include "defs.idl"\nstruct S { 1: defs.Id id }\n')
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "defs.idl").write_text("typedef i64 Id\n", encoding="utf-8")
    assert load_catalog([idl], [vendor]).struct("main.S").fields[0].type.alias == "defs.Id"


def test_an_empty_folder_is_an_error_for_check_and_serve_alike(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("no IDL here\n", encoding="utf-8")
    with pytest.raises(IdlError, match=r"^no \.thrift files found in ") as info:
        load_catalog([empty])
    assert info.value.hint
    code, output = check(str(empty))
    assert code == 1
    assert "no .thrift files found in" in output
    assert "ok:" not in output
    session = Session(ServeConfig(paths=(empty,), root=tmp_path, admin_port=0))
    with pytest.raises(IdlError, match=r"^no \.thrift files found in "):
        session.start()
