"""Adding sources the way people have them: a site's address (`feedsvc
add`, with feed discovery), an OPML export from a reader (`feedsvc
import`), and taking one out (`feedsvc remove`). Each ends in one careful
write of config.toml (config_edit); a running service picks it up on its
own (see reload)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from feedsvc.config import Settings
from feedsvc.config_edit import ConfigFile, same_source, unique
from feedsvc.discover import Found, discover, feed_name_for, site_name, slug
from feedsvc.errors import FetchError, UsageError
from feedsvc.fetch import Fetcher
from feedsvc.opml import read_opml


@dataclass
class AddReport:
    found: Found
    feed: str
    new_feed: bool
    added: list[str]
    skipped: list[str] = field(default_factory=list)  # already followed

    def lines(self) -> list[str]:
        out = []
        if self.found.kind == "page with feeds":
            out.append(f"{self.found.url} advertises {len(self.found.alternates)} feed(s):")
            for alt in self.found.alternates:
                mark = "+" if alt.url in self.added else " "
                title = f" ({alt.title})" if alt.title else ""
                out.append(f"  {mark} {alt.kind}: {alt.url}{title}")
        elif self.found.kind == "page":
            out.append(f"{self.found.url} is a page without a feed: following the page itself")
        where = f"new feed {self.feed!r}" if self.new_feed else f"feed {self.feed!r}"
        for url in self.added:
            out.append(f"added {url} to {where}")
        for url in self.skipped:
            out.append(f"already followed, skipped: {url}")
        return out


def fetch_for_discovery(settings: Settings, url: str) -> tuple[str, str, bytes]:
    """GET url with the service's own polite client: (final URL, content
    type, body). Anything unreachable is one UsageError line."""
    fetcher = Fetcher(
        settings.user_agent,
        timeout=settings.fetch.timeout,
        connect_timeout=settings.fetch.connect_timeout,
        max_bytes=settings.fetch.max_bytes,
    )
    try:
        result = fetcher.get(url)
    except FetchError as exc:
        raise UsageError(f"nothing reachable: {exc}") from None  # it names the URL
    finally:
        fetcher.close()
    return result.url, result.headers.get("content-type", ""), result.body


def add(
    settings: Settings,
    url: str,
    *,
    feed: str | None = None,
    title: str | None = None,
    fetch_articles: bool = False,
    every: bool = False,
) -> AddReport:
    assert settings.path is not None
    final_url, content_type, body = fetch_for_discovery(settings, url)
    found = discover(final_url, content_type, body)
    if found.kind == "page with feeds":
        candidates = [alt.url for alt in found.chosen(every)]
    else:
        candidates = [url]  # the address as given: a redirect may be temporary
    name = feed or feed_name_for(url)
    file = ConfigFile(settings.path)
    followed = file.followed(settings)
    fresh = [c for c in candidates if not any(same_source(c, f) for f in followed)]
    skipped = [c for c in candidates if c not in fresh]
    if not fresh:
        raise UsageError(f"already followed: {', '.join(candidates)}")
    new_feed = False
    feed_title = title or site_name(found.title) or name
    for source in fresh:
        new_feed |= file.add_source(
            name, source, title=feed_title, fetch_articles=fetch_articles or None
        )
    file.save()
    return AddReport(found, name, new_feed, fresh, skipped)


@dataclass
class ImportReport:
    added: dict[str, list[str]] = field(default_factory=dict)  # feed -> sources
    new_feeds: list[str] = field(default_factory=list)
    already: int = 0
    duplicates: int = 0
    without_feed: int = 0
    not_http: int = 0

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.added.values())

    def lines(self) -> list[str]:
        out = [
            f"{feed}{' (new)' if feed in self.new_feeds else ''}: {len(urls)} source(s) added"
            for feed, urls in self.added.items()
        ]
        out.append(
            f"imported {self.total} source(s) into {len(self.added)} feed(s); skipped "
            f"{self.already} already followed, {self.duplicates} duplicate(s), "
            f"{self.without_feed} outline(s) without a feed URL, {self.not_http} non-http URL(s)"
        )
        return out


def import_opml(settings: Settings, path: Path, *, feed: str | None = None) -> ImportReport:
    assert settings.path is not None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    listing = read_opml(data, str(path))
    report = ImportReport(without_feed=listing.without_feed, not_http=listing.not_http)
    file = ConfigFile(settings.path)
    followed = file.followed(settings)
    urls, repeats = unique(s.url for s in listing.subscriptions)
    report.duplicates = len(repeats)
    firsts = {s.url: s for s in listing.subscriptions}
    for url in urls:
        if any(same_source(url, f) for f in followed):
            report.already += 1
            continue
        sub = firsts[url]
        name = feed or (slug(sub.category) if sub.category else "imported")
        title = sub.category if (sub.category and not feed) else None
        if file.add_source(name, url, title=title):
            report.new_feeds.append(name)
        report.added.setdefault(name, []).append(url)
    if report.total:
        file.save()
    return report


def remove(settings: Settings, url: str) -> list[str]:
    """Take url out of config.toml; the feeds it was in."""
    assert settings.path is not None
    file = ConfigFile(settings.path)
    feeds = file.remove_source(url)
    if not feeds:
        raise UsageError(f"not followed: {url}")
    file.save()
    return feeds
