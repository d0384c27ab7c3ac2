"""Files that hang together: a name, extension, MIME type, path and size of one kind of file.

A struct with two or more of ``fileName``/``name`` (in a File), ``extension``, ``mimeType``, ``path`` and
``size`` gets them from one file type: ``report.pdf``, ``pdf``, ``application/pdf``, ``/docs/report.pdf``,
a size that fits a PDF. A field a stub or the request fixed decides the type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from thriftbox.idl.model import Kind
from thriftbox.values.fieldrng import FieldRng, mix, salt
from thriftbox.values.hints import normalize


@dataclass(frozen=True)
class FileType:
    ext: str
    mime: str
    min_bytes: int
    max_bytes: int


def _types(text: str) -> tuple[FileType, ...]:
    out = []
    for line in text.strip().splitlines():
        ext, mime, lo, hi = line.split()
        out.append(FileType(ext, mime, int(float(lo)), int(float(hi))))
    return tuple(out)


TYPES = _types(
    """
    pdf application/pdf 2e4 5e6
    png image/png 1e4 4e6
    jpg image/jpeg 2e4 6e6
    webp image/webp 1e4 2e6
    gif image/gif 1e4 5e6
    svg image/svg+xml 1e3 2e5
    mp4 video/mp4 1e6 5e8
    mov video/quicktime 1e6 8e8
    mp3 audio/mpeg 1e6 1.5e7
    flac audio/flac 1e7 6e7
    wav audio/wav 1e6 8e7
    csv text/csv 1e2 5e6
    txt text/plain 1e2 2e5
    json application/json 1e2 1e6
    html text/html 1e3 3e5
    xml application/xml 1e3 1e6
    zip application/zip 1e4 2e8
    docx application/vnd.openxmlformats-officedocument.wordprocessingml.document 1e4 5e6
    xlsx application/vnd.openxmlformats-officedocument.spreadsheetml.sheet 1e4 5e6
    pptx application/vnd.openxmlformats-officedocument.presentationml.presentation 1e5 2e7
    """
)
_BY_EXT = {t.ext: t for t in TYPES} | {"jpeg": TYPES[2], "htm": TYPES[14], "mpeg": TYPES[8]}
_BY_MIME = {t.mime: t for t in TYPES}
SIZE_NAMES = frozenset(
    (
        "size",
        "size_byte",
        "file_size",
        "byte",
        "size_in_byte",
        "length",
        "content_length",
        "byte_size",
        "file_length",
    )
)
EXT_NAMES = frozenset(("extension", "ext", "file_extension", "file_ext", "suffix"))

Fixer = Callable[[dict[str, Any], int, frozenset[str]], None]
FieldKinds = Mapping[str, tuple[Kind, str | None]]
_INTS = (Kind.I32, Kind.I64)
_SALT = salt("fix", "file")


def _ext_of(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def file_fixer(kinds: FieldKinds) -> Fixer | None:
    names = [n for n, (tk, vk) in kinds.items() if vk == "file_name" and tk is Kind.STRING]
    paths = [n for n, (tk, vk) in kinds.items() if vk == "file_path" and tk is Kind.STRING and not _is_dir(n)]
    mimes = [n for n, (tk, vk) in kinds.items() if vk == "mime" and tk is Kind.STRING]
    exts = [n for n, (tk, _) in kinds.items() if normalize(n) in EXT_NAMES and tk is Kind.STRING]
    if len(names) + len(paths) + len(mimes) + len(exts) == 0:
        return None
    sizes = [n for n, (tk, _) in kinds.items() if normalize(n) in SIZE_NAMES and tk in _INTS]
    if len(names) + len(paths) + len(mimes) + len(exts) + len(sizes) < 2:
        return None

    def decided(d: Mapping[str, Any], among: frozenset[str]) -> FileType | None:
        for group, of in ((mimes, _BY_MIME.get), (exts, lambda v: _BY_EXT.get(v.lower().lstrip(".")))):
            for n in group:
                v = d.get(n)
                if n in among and isinstance(v, str) and (t := of(v)) is not None:
                    return t
        for n in (*names, *paths):
            v = d.get(n)
            if n in among and isinstance(v, str) and (t := _BY_EXT.get(_ext_of(v))) is not None:
                return t
        return None

    every = frozenset((*names, *paths))

    def fix(d: dict[str, Any], seed: int, fixed: frozenset[str]) -> None:
        rng = FieldRng(mix(seed ^ _SALT))
        t = (
            (decided(d, fixed) if fixed else None)
            or decided(d, every)
            or TYPES[int(rng.random() * len(TYPES))]
        )
        stem = next(
            (d[n].rsplit("/", 1)[-1].rsplit(".", 1)[0] for n in names if isinstance(d.get(n), str)), ""
        )
        if not stem:
            stem = next((_stem(d[n]) for n in paths if isinstance(d.get(n), str)), "") or "file"
        file_name = next((d[n] for n in names if n in fixed and isinstance(d.get(n), str)), f"{stem}.{t.ext}")
        for n in names:
            if n not in fixed and d.get(n) is not None:
                d[n] = file_name
        for n in paths:
            v = d.get(n)
            if n not in fixed and isinstance(v, str):
                folder = v.rsplit("/", 1)[0] if "/" in v else ""
                d[n] = f"{folder}/{file_name}"
        for n in mimes:
            if n not in fixed and d.get(n) is not None:
                d[n] = t.mime
        for n in exts:
            v = d.get(n)
            if n not in fixed and isinstance(v, str):
                d[n] = ("." if v.startswith(".") else "") + t.ext
        for n in sizes:
            if n not in fixed and d.get(n) is not None:
                d[n] = t.min_bytes + int(rng.random() * (t.max_bytes - t.min_bytes))

    return fix


def _is_dir(name: str) -> bool:
    """``bufferDir``, ``outputFolder``: a folder, not a file."""
    return normalize(name).rsplit("_", 1)[-1] in ("dir", "directory", "folder", "root", "prefix")


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
