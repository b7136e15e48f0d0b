"""Local sources: a file is one article, a folder holds one article per file.

The file's absolute path is the article's identity; its first line (.txt,
.md) or its <title> (.html) is the title. Scraped text files carry page
boilerplate ("Skip to content" above the headline, a comment form below the
story, like the seed): the title is the first line that is not boilerplate,
and normalisation drops the rest of it.
"""

from __future__ import annotations

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
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
        )
    raise ParseError(f"{path}: no such file or folder")


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


def read_file(path: Path, max_bytes: int, base: Path | None = None) -> tuple[EntryData, Evidence]:
    size = path.stat().st_size
    if size > max_bytes:
        raise ParseError(f"{path}: {size} bytes is over the {max_bytes}-byte limit")
    body = path.read_bytes()
    fetched_at = datetime.now(UTC)
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
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
    """Every article under `path`, with each file's bytes as its evidence."""
    entries = []
    evidence = {}
    for file in article_files(path):
        try:
            entry, ev = read_file(file, max_bytes, base)
        except (OSError, ParseError):
            continue  # a file that vanished or is too big harms only itself
        entries.append(entry)
        evidence[entry.key] = ev
    return FeedData(title=path.name, link=None, entries=tuple(entries)), evidence
