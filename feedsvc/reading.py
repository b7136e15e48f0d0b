"""Reading one source or one article page: fetch, then parse or extract.

What comes out (`Found`, `Page`) is what the source or page says now, before
any decision about it: the Updater decides and stores. Parsing a feed and
extracting an article go through `parse_document` and `extract_page` only,
so that where they run (this thread, a child process) is decided in one
place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from feedsvc import charset, local
from feedsvc.config import FeedSettings, Settings
from feedsvc.errors import ParseError
from feedsvc.extract import EXTRACTOR, Rules, extract_article
from feedsvc.fetch import Fetcher
from feedsvc.models import ArticleForUpdate, EntryData, Evidence, FeedData, FetchResult
from feedsvc.nesting import flatten_deep
from feedsvc.parse import EXTRACTOR as PARSER
from feedsvc.parse import looks_like_feed, parse_feed
from feedsvc.revisions import looks_truncated, normalise
from feedsvc.text import html_to_text

log = logging.getLogger("feedsvc.update")

HTML_TYPES = ("text/html", "application/xhtml+xml", "")


def is_url(locator: str) -> bool:
    return urlsplit(locator).scheme in ("http", "https")


def parse_document(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> FeedData:
    """A feed document's entries (feedparser). Every parse goes through here."""
    return parse_feed(body, url, headers)


def extract_page(html: str, url: str, key: str, rules: Rules | None = None) -> EntryData:
    """An article page's main text (trafilatura), with the feed's own
    extraction rules. Every extraction goes through here; lxml silently
    drops whatever nests deeper than 255 tags, so the page is flattened first."""
    return extract_article(flatten_deep(html), url, key=key, rules=rules)


def page_evidence(result: FetchResult, extractor: str) -> Evidence:
    return Evidence(
        url=result.url,
        fetched_at=result.fetched_at,
        status=result.status,
        body=result.body,
        etag=result.etag,
        last_modified=result.last_modified,
        content_type=result.headers.get("content-type"),
        extractor=extractor,
        request_headers=result.request_headers or None,
        response_headers=result.headers or None,
    )


def decode_html(result: FetchResult) -> str:
    """A fetched page as text: charset from the header, a BOM or the page."""
    return charset.decode_html(result.body, result.headers.get("content-type"))


@dataclass(frozen=True)
class Page:
    """An article page fetched and extracted, past the extraction guard."""

    result: FetchResult
    entry: EntryData | None = None  # None: not modified since the last check
    evidence: Evidence | None = None
    suspect: bool = False  # still a fragment after a second fetch


@dataclass(frozen=True)
class Found:
    """What a source's poll found, before any decision."""

    feed: FeedData
    evidence: dict[str, Evidence]  # by entry key; missing -> `shared`
    shared: Evidence | None = None
    pages: dict[str, Page] = field(default_factory=dict)  # entries that are article pages
    follow_links: bool = False  # fetch_articles: version each entry's linked page
    # `feedsvc poll`: look at every entry's page now, changed in the feed or not.
    everything: bool = False


class Reader:
    """Reads sources and article pages through one HTTP client."""

    def __init__(self, settings: Settings, fetcher: Fetcher) -> None:
        self.settings = settings
        self.fetcher = fetcher

    def close(self) -> None:
        self.fetcher.close()

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """A conditional GET; a 304 is an ordinary result (`not_modified`)."""
        return self.fetcher.get(url, etag=etag, last_modified=last_modified)

    def read_response(
        self,
        result: FetchResult,
        key: str,
        feed: FeedSettings,
        article_of: Callable[[str], ArticleForUpdate | None],
    ) -> Found:
        """A source's answer read as a feed or, when it is a web page, as the
        single article `key` (whose stored state `article_of` looks up, for
        the extraction guard)."""
        if looks_like_feed(result.body, result.content_type):
            data = parse_document(result.body, result.url, result.headers)
            found = Found(data, {}, page_evidence(result, PARSER))
            return replace(found, follow_links=feed.fetch_articles)
        if result.content_type in HTML_TYPES:
            page = self.read_page(result.url, key, feed, article_of(key), first=result)
            assert page.entry is not None
            data = FeedData(page.entry.title, result.url, (page.entry,))
            return Found(data, {}, page.evidence, pages={key: page})
        raise ParseError(f"{result.url}: neither a feed nor a web page ({result.content_type})")

    def read_local(self, path: str, rules: Rules | None = None) -> Found:
        """A file or folder source: each file one article."""
        data, evidence = local.read_path(
            Path(path), self.settings.fetch.max_bytes, self.settings.base_dir
        )
        entries = tuple(read_local_html(e, evidence[e.key].url, rules) for e in data.entries)
        return Found(replace(data, entries=entries), evidence)

    def read_page(
        self,
        url: str,
        key: str,
        feed: FeedSettings,
        article: ArticleForUpdate | None,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        first: FetchResult | None = None,
    ) -> Page:
        """Fetch (conditionally) and extract an article page. A result the
        guard doubts (empty, too short, or shrunk by more than half) is
        fetched once more before it is believed; if the second answer is no
        better, the page is marked suspect."""
        result = first or self.fetch(url, etag=etag, last_modified=last_modified)
        if result.not_modified:
            return Page(result)
        entry = self._extract(result, key, feed)
        latest = article.latest.text if article and article.latest else None
        if not self._doubtful(entry, latest, feed):
            return Page(result, entry, page_evidence(result, EXTRACTOR))
        log.info("article page %s extracted to a fragment: fetching it again", url)
        second = self.fetch(result.url)
        if not second.not_modified:
            result, entry = second, self._extract(second, key, feed)
        suspect = self._doubtful(entry, latest, feed)
        return Page(result, entry, page_evidence(result, EXTRACTOR), suspect)

    def _extract(self, result: FetchResult, key: str, feed: FeedSettings) -> EntryData:
        if result.content_type not in HTML_TYPES:
            raise ParseError(f"{result.url}: not a web page ({result.content_type})")
        return extract_page(decode_html(result), result.url, key, Rules.of(feed))

    def _doubtful(self, entry: EntryData, latest_text: str | None, feed: FeedSettings) -> bool:
        raw = entry.text if entry.text is not None else html_to_text(entry.html)
        return looks_truncated(
            normalise(raw, feed.ignore), latest_text, self.settings.fetch.min_words
        )


def reread(evidence: Evidence, key: str, rules: Rules | None = None) -> EntryData | None:
    """The entry `key` as the current extractors read a stored raw response:
    an article page, a feed (the entry with that key) or a local file.
    None when the raw holds no such entry."""
    extractor = evidence.extractor or ""
    if extractor.startswith("trafilatura"):
        html = charset.decode_html(evidence.body, evidence.content_type)
        return extract_page(html, evidence.url, key, rules)
    if extractor.startswith("feedparser"):
        data = parse_document(evidence.body, evidence.url)
        return next((e for e in data.entries if e.key == key), None)
    if extractor in ("text", "html"):
        entry = local.parse_file(evidence.body, key, PurePosixPath(evidence.url).suffix)
        return read_local_html(entry, evidence.url, rules)
    return None


def read_local_html(entry: EntryData, uri: str, rules: Rules | None = None) -> EntryData:
    """A local .html file is read like an article page: its main text, not
    its navigation, sidebars and comment forms. A fragment too short for
    the extractor to find an article in is kept whole."""
    if entry.extractor != "html":
        return entry
    page = extract_page(entry.html, uri, entry.key, rules)
    if not (page.html.strip() or (page.text or "").strip()):
        return entry
    return replace(page, url=None, title=page.title or entry.title, updated=entry.updated)
