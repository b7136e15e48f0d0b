"""Local sources: a file is one article, a folder holds one article per file.

The file's absolute path is the article's identity; its first line (.txt,
.md) or its <title> (.html) is the title. Scraped text files carry page
boilerplate ("Skip to content" above the headline, a comment form below the
story, like the seed): the title is the first line that is not boilerplate,
and normalisation drops the rest of it.
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

from feedsvc.charset import decode_html
from feedsvc.errors import ParseError
from feedsvc.models import EntryData, Evidence, FeedData
from feedsvc.revisions import is_boilerplate
from feedsvc.text import element_text

SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm"})


def article_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(
            p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
        )
    raise ParseError(f"{path}: no such file or folder")


def read_bytes(path: Path, max_bytes: int, folder: Path | None = None) -> tuple[bytes, float]:
    """The bytes of a regular file (and its mtime), never more than
    `max_bytes` whatever its size claims (/proc files say 0). With `folder`,
    the file must lie inside it once every symlink is resolved: a link to
    anything outside (another folder, /proc, /etc) is refused. The resolved
    path is opened without following a last link, so a link swapped in
    after the check is refused too."""
    real = path.resolve(strict=True)
    if folder is not None and not real.is_relative_to(folder.resolve()):
        raise ParseError(f"{path}: a link to outside the folder; not read")
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ParseError(f"{path}: not a regular file; not read")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > max_bytes:
        raise ParseError(f"{path}: over the {max_bytes}-byte limit")
    return b"".join(chunks), info.st_mtime


def decode(body: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("latin-1")


def file_key(path: Path, base: Path | None) -> str:
    """An article file's identity: its path relative to the config file's
    folder when it lies below it (so the whole setup can move without every
    article becoming a new one), else its absolute path."""
    if base is not None and path.is_relative_to(base):
        return path.relative_to(base).as_posix()
    return str(path)


def read_file(
    path: Path, max_bytes: int, base: Path | None = None, folder: Path | None = None
) -> tuple[EntryData, Evidence]:
    body, mtime = read_bytes(path, max_bytes, folder)
    fetched_at = datetime.now(UTC)
    modified = datetime.fromtimestamp(mtime, UTC)
    key = file_key(path, base)
    uri = path.as_uri()
    entry = parse_file(body, key, path.suffix, fallback_title=path.stem, modified=modified)
    content_type = "text/html" if entry.extractor == "html" else "text/plain"
    evidence = Evidence(
        url=uri,
        fetched_at=fetched_at,
        status=200,
        body=body,
        content_type=content_type,
        extractor=entry.extractor,
    )
    return entry, evidence


def parse_file(
    body: bytes,
    key: str,
    suffix: str,
    *,
    fallback_title: str = "",
    modified: datetime | None = None,
) -> EntryData:
    """An article file's bytes as an entry (also used to re-read a stored
    raw copy): .html by its <title>, text by its first line that is not
    boilerplate."""
    if suffix.lower() in (".html", ".htm"):
        html = decode_html(body)
        raw_title = element_text(html, "title")
        title = unescape(raw_title).strip() if raw_title is not None else fallback_title
        return EntryData(
            key=key, title=title, url=None, html=html, updated=modified, extractor="html"
        )
    lines = decode(body).splitlines()
    first = next(
        (i for i, line in enumerate(lines) if line.strip() and not is_boilerplate(line)),
        None,
    )
    title = lines[first].strip().lstrip("#").strip() if first is not None else fallback_title
    rest = "\n".join(lines[first + 1 :]) if first is not None else ""
    return EntryData(key=key, title=title, url=None, text=rest, updated=modified, extractor="text")


def read_path(
    path: Path, max_bytes: int, base: Path | None = None
) -> tuple[FeedData, dict[str, Evidence]]:
    """Every article under `path`, with each file's bytes as its evidence.
    A file that is refused (too big, not a regular file, a link out of the
    folder) harms only itself and is named in the feed's notes, which
    /healthz lists as the source's warning."""
    entries = []
    evidence = {}
    notes = []
    folder = path if path.is_dir() else None
    for file in article_files(path):
        try:
            entry, ev = read_file(file, max_bytes, base, folder)
        except ParseError as exc:
            notes.append(str(exc))
            continue
        except OSError:
            continue  # a file that vanished (or a dangling link) harms only itself
        entries.append(entry)
        evidence[entry.key] = ev
    data = FeedData(title=path.name, link=None, entries=tuple(entries), notes=tuple(notes))
    return data, evidence
