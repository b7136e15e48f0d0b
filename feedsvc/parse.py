"""The only feedparser importer: feed bytes -> FeedData."""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from urllib.parse import urljoin

import feedparser
import feedparser.mixin

from feedsvc.errors import ParseError
from feedsvc.models import EntryData, FeedData

EXTRACTOR = f"feedparser {feedparser.__version__}"

# An entry's guid / atom:id is an opaque identity, not a link: feedparser
# resolves a permalink guid against the feed's URL, so the same article
# would get a new identity whenever the feed moves (a 301, http -> https).
# parse.py is the only feedparser importer, so this is the one place to say so.
feedparser.mixin._FeedParserMixin.can_be_relative_uri = (
    feedparser.mixin._FeedParserMixin.can_be_relative_uri - {"id"}
)
_FEED_TYPES = (
    "application/atom+xml",
    "application/rss+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/x-rss+xml",
)


def looks_like_feed(body: bytes, content_type: str) -> bool:
    """Is this answer a feed rather than a web page? The content type says
    so, or the first tag is <rss>, <feed> or <rdf:RDF>."""
    if content_type in _FEED_TYPES:
        return True
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2 :].lstrip()
    while head.startswith(b"<!--"):
        end = head.find(b"-->")
        head = head[end + 3 :].lstrip() if end >= 0 else b""
    return head.startswith((b"<rss", b"<feed", b"<rdf:rdf"))


def _date(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _content(entry: Mapping[str, Any]) -> str:
    """The fullest body the entry carries: <content> over <summary>."""
    best = ""
    for item in entry.get("content") or []:
        value = item.get("value") or ""
        if len(value) > len(best):
            best = value
    return best or entry.get("summary") or ""


def parse_feed(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> FeedData:
    """Parse RSS or Atom bytes. Relative links resolve against `url`."""
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers.setdefault("content-location", url)
    try:
        parsed = feedparser.parse(
            BytesIO(body),
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=True,
        )
    except Exception as exc:  # feedparser's own crashes on hostile input
        raise ParseError(f"{url}: cannot parse the feed: {type(exc).__name__}: {exc}") from None
    if not parsed.entries and not parsed.feed.get("title") and parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        raise ParseError(f"{url}: not a valid feed: {reason}")
    entries = []
    for entry in parsed.entries:
        key = entry.get("id") or entry.get("link")
        if not key:
            continue
        entries.append(
            EntryData(
                key=str(key),
                title=str(entry.get("title") or ""),
                url=urljoin(url, entry["link"]) if entry.get("link") else None,
                html=_content(entry),
                # dict.get: FeedParserDict.get maps a missing updated_parsed
                # to published_parsed, with a DeprecationWarning each time.
                published=_date(dict.get(entry, "published_parsed"))
                or _date(dict.get(entry, "updated_parsed")),
                updated=_date(dict.get(entry, "updated_parsed")),
                author=entry.get("author"),
                extractor=EXTRACTOR,
            )
        )
    return FeedData(
        title=parsed.feed.get("title"), link=parsed.feed.get("link"), entries=tuple(entries)
    )
