"""Careful edits of config.toml for `feedsvc add`, `import` and `remove`.

The file is edited with tomlkit, so comments, blank lines and key order
stay as the operator wrote them. A change is written only after the whole
new text loads as a valid config (config.from_mapping, the same check as at
start), and atomically (a temporary file beside it, fsync, rename), so a
refused change leaves the file byte for byte as it was and a crash never
leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Array, Table
from tomlkit.toml_document import TOMLDocument

from feedsvc import config
from feedsvc.config import Settings
from feedsvc.errors import ConfigError, UsageError


class ConfigFile:
    """config.toml as a tomlkit document, edited in memory, saved once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.original = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"{path}: no such config file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: cannot read: {exc}") from None
        try:
            self.doc: TOMLDocument = tomlkit.parse(self.original)
        except tomlkit.exceptions.TOMLKitError as exc:
            raise UsageError(f"{path}: not valid TOML: {exc}") from None

    # -- reading ------------------------------------------------------------

    def _feeds(self) -> AoT | None:
        feeds = self.doc.get("feeds")
        return feeds if isinstance(feeds, AoT) else None

    def feed(self, name: str) -> Table | None:
        for table in self._feeds() or []:
            if table.get("name") == name:
                return table
        return None

    def followed(self, settings: Settings) -> set[str]:
        """Every source already followed, as configured and as resolved."""
        out: set[str] = set()
        for feed in settings.feeds:
            out.update(_key(s) for s in feed.sources)
        for table in self._feeds() or []:
            out.update(_key(str(s)) for s in table.get("sources", []))
        return out

    # -- editing --------------------------------------------------------------

    def add_source(
        self,
        feed: str,
        source: str,
        *,
        title: str | None = None,
        fetch_articles: bool | None = None,
    ) -> bool:
        """Add `source` to feed `feed`, making the feed (at the end of the
        file) if there is none; returns True if the feed is new."""
        table = self.feed(feed)
        if table is not None:
            sources = table.get("sources")
            if isinstance(sources, Array):
                sources.append(source)
                if len(sources) > 1:
                    sources.multiline(True)
            else:
                table["sources"] = [source]
            if fetch_articles and not table.get("fetch_articles"):
                table["fetch_articles"] = True
            return False
        new = tomlkit.table()
        new["name"] = feed
        new["title"] = title or feed
        new["sources"] = [source]
        if fetch_articles:
            new["fetch_articles"] = True
        feeds = self._feeds()
        if feeds is None:
            self.doc.append("feeds", tomlkit.aot())
            feeds = self._feeds()
            assert feeds is not None
        feeds.append(new)
        return True

    def remove_source(self, source: str) -> list[str]:
        """Take `source` out of every feed that lists it; a feed left with
        no source goes too. Returns the feeds it was in."""
        feeds = self._feeds()
        found: list[str] = []
        if feeds is None:
            return found
        emptied = []
        for index, table in enumerate(feeds):
            sources = table.get("sources")
            if not isinstance(sources, Array):
                continue
            for i in reversed(range(len(sources))):
                if _key(str(sources[i])) == _key(source):
                    del sources[i]
                    found.append(str(table.get("name")))
            if not sources and str(table.get("name")) in found:
                emptied.append(index)
        for index in reversed(emptied):
            del feeds[index]
        return found

    # -- saving ---------------------------------------------------------------

    def validate(self) -> Settings:
        """The edited text as the service would load it, or UsageError with
        the config's own one-line message."""
        text = tomlkit.dumps(self.doc)
        try:
            return config.from_mapping(tomllib.loads(text), self.path)
        except (ConfigError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"refused, {self.path} left unchanged: {exc}") from None

    def save(self) -> Settings:
        """Validate, then replace the file atomically; returns the new settings."""
        settings = self.validate()
        write_atomically(self.path, tomlkit.dumps(self.doc))
        return settings


def write_atomically(path: Path, text: str) -> None:
    """Write beside the file, flush to disk, rename over it: readers see the
    old file or the new one, never half of one. Keeps the file's mode."""
    folder = path.resolve().parent
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path.resolve())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _key(source: str) -> str:
    """Sources compared as people mean them: a trailing slash and the case
    of scheme and host do not make a new source."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(source)
    if parts.scheme.lower() in ("http", "https"):
        path = parts.path.rstrip("/") or ""
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))
    return source.rstrip("/")


def unique(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """(first occurrences, repeats) by _key."""
    seen: set[str] = set()
    first: list[str] = []
    repeats: list[str] = []
    for value in values:
        key = _key(value)
        (repeats if key in seen else first).append(value)
        seen.add(key)
    return first, repeats


def same_source(a: str, b: str) -> bool:
    return _key(a) == _key(b)
