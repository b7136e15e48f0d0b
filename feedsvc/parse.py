"""The only feedparser importer: feed bytes -> FeedData."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from urllib.parse import urljoin

import feedparser
import feedparser.mixin
from lxml import etree

from feedsvc.charset import with_known_charsets
from feedsvc.errors import ParseError
from feedsvc.isolation import isolated
from feedsvc.models import EntryData, FeedData
from feedsvc.text import html_to_text

EXTRACTOR = f"feedparser {feedparser.__version__}"

# An entry's guid / atom:id is an opaque identity, not a link: feedparser
# resolves a permalink guid against the feed's URL, so the same article
# would get a new identity whenever the feed moves (a 301, http -> https).
# parse.py is the only feedparser importer, so this is the one place to say so.
feedparser.mixin._FeedParserMixin.can_be_relative_uri = (
    feedparser.mixin._FeedParserMixin.can_be_relative_uri - {"id"}
)
_NotXMLType = feedparser.NonXMLContentType
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


def _title(entry: Mapping[str, Any]) -> str:
    """The entry's title as text. A title declared as HTML (Atom
    type="html", or escaped markup in RSS) loses its tags here, so that
    "<b>Storm</b> hits" is the headline "Storm hits", not markup."""
    title = str(entry.get("title") or "")
    detail = entry.get("title_detail") or {}
    if "<" in title and detail.get("type") in ("text/html", "application/xhtml+xml"):
        return " ".join(html_to_text(title).split())
    return title


def _content(entry: Mapping[str, Any]) -> str:
    """The fullest body the entry carries: <content> over <summary>."""
    best = ""
    for item in entry.get("content") or []:
        value = item.get("value") or ""
        if len(value) > len(best):
            best = value
    return best or entry.get("summary") or ""


# Bounds on what one feed document may make us do. feedparser is pure Python
# and slow (about 0.5 ms an entry, and seconds for one entry of megabytes of
# markup), so a hostile feed is cut down with lxml (C, no entities, no
# network) before feedparser sees it.
MAX_ENTRIES = 1000
MAX_ENTRY_BYTES = 1_000_000
_ENTRY_TAGS = frozenset({"item", "entry"})
# The root's end tag, with or without a namespace prefix (</atom:feed>).
_ROOT_END = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|rdf)\s*>$")


def _refuse_entities(body: bytes, url: str) -> None:
    """A feed's DTD may not declare entities: that is how a billion-laughs
    document multiplies a few hundred bytes into gigabytes. Real feeds do
    not declare their own entities. The whole prolog is read, however long
    the comments before the DOCTYPE; a DOCTYPE with an internal subset
    ([...], where entities are declared) is refused if "<!ENTITY" appears
    anywhere after it, so no comment or quoted "]" inside the subset can
    hide one."""
    start = _doctype_at(body)
    if start is None:
        return
    bracket, close = body.find(b"[", start), body.find(b">", start)
    if bracket < 0 or 0 <= close < bracket:
        return  # no internal subset; external DTDs are never loaded
    if b"<!entity" in body[start:].lower():
        raise ParseError(f"{url}: the feed declares XML entities (<!ENTITY); refused")


def _doctype_at(body: bytes) -> int | None:
    """Where the prolog's <!DOCTYPE is, if it has one: skips the byte order
    mark, white space, the XML declaration, processing instructions and
    comments of any length, in one linear pass (bytes.find, no regex)."""
    pos = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    n = len(body)
    while pos < n:
        if body[pos : pos + 1] in (b" ", b"\t", b"\r", b"\n"):
            pos += 1
        elif body.startswith(b"<?", pos):
            end = body.find(b"?>", pos + 2)
            if end < 0:
                return None
            pos = end + 2
        elif body.startswith(b"<!--", pos):
            end = body.find(b"-->", pos + 4)
            if end < 0:
                return None
            pos = end + 3
        elif body[pos : pos + 9].lower() == b"<!doctype":
            return pos
        else:
            return None  # the root element (or text): the prolog is over
    return None


def _truncated(body: bytes) -> bool:
    """Does the document stop before its root element's end tag? A cut
    answer must not be read: its last entry would be a spurious revision
    with half its text."""
    tail = body[-256:].rstrip().lower()
    while tail.endswith(b"-->") and b"<!--" in tail:  # a trailing comment
        tail = tail[: tail.rfind(b"<!--")].rstrip()
    return _ROOT_END.search(tail) is None


def _local(tag: object) -> str:
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def _cut_down(body: bytes, max_entries: int, max_entry_bytes: int) -> tuple[bytes, list[str]]:
    """Keep the first `max_entries` entries, each at most `max_entry_bytes`
    of markup; say what was left out. Only runs on documents big enough to
    need it, so ordinary feeds reach feedparser byte for byte."""
    if (
        len(body) <= max_entry_bytes
        and (body.count(b"<item") + body.count(b"<entry")) <= max_entries
    ):
        return body, []
    # iterparse, dropping each entry past the limit as soon as it is read:
    # memory follows the entries kept, not the document (a whole tree of
    # 100,000 entries is some 150 MB).
    events = etree.iterparse(
        BytesIO(body),
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        recover=True,
        huge_tree=False,
    )
    kept = too_big = dropped = 0
    try:
        for _, el in events:
            if _local(el.tag) not in _ENTRY_TAGS:
                continue
            parent = el.getparent()
            if parent is None:
                continue
            if kept >= max_entries:
                parent.remove(el)
                dropped += 1
            elif len(etree.tostring(el)) > max_entry_bytes:
                parent.remove(el)
                too_big += 1
            else:
                kept += 1
        root = events.root
    except etree.XMLSyntaxError:
        return body, []  # feedparser's loose parser will make of it what it can
    if root is None:
        return body, []
    notes = []
    if too_big:
        notes.append(f"{too_big} entries over {max_entry_bytes} bytes were skipped")
    if dropped:
        notes.append(
            f"the feed has {kept + too_big + dropped} entries; only the first "
            f"{max_entries} were read"
        )
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), notes


def parse_feed(
    body: bytes,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    max_entries: int = MAX_ENTRIES,
    max_entry_bytes: int = MAX_ENTRY_BYTES,
) -> FeedData:
    """Parse RSS or Atom bytes. Relative links resolve against `url`.

    A document cut short or declaring entities is refused (ParseError). A
    complete one that is not well-formed is read leniently, and so is one
    with too many or too large entries, cut down: what was wrong is in the
    result's `notes`, for the source's status.

    The work is done by a child process (see isolation.py): a parser that
    crashes, hangs or runs out of memory is a ParseError for this feed."""
    return isolated(
        "feedsvc.parse:read_feed",
        url,
        read_feed,
        body,
        url,
        dict(headers or {}),
        max_entries=max_entries,
        max_entry_bytes=max_entry_bytes,
    )


def read_feed(
    body: bytes,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    max_entries: int = MAX_ENTRIES,
    max_entry_bytes: int = MAX_ENTRY_BYTES,
) -> FeedData:
    """parse_feed() in this process: what a parser child runs."""
    _refuse_entities(body, url)
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers.setdefault("content-location", url)
    body, content_type = with_known_charsets(body, response_headers.get("content-type"))
    if content_type is not None:
        response_headers["content-type"] = content_type
    body, notes = _cut_down(body, max_entries, max_entry_bytes)
    try:
        parsed = feedparser.parse(
            BytesIO(body),
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=True,
        )
    except MemoryError:
        raise  # over the parser child's memory limit: isolation.py reports it
    except Exception as exc:  # feedparser's own crashes on hostile input
        raise ParseError(f"{url}: cannot parse the feed: {type(exc).__name__}: {exc}") from None
    if parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        if not parsed.entries and not parsed.feed.get("title"):
            raise ParseError(f"{url}: not a valid feed: {reason}")
        if _truncated(body):
            raise ParseError(f"{url}: the feed is cut short (no closing tag): {reason}")
        if not isinstance(reason, feedparser.CharacterEncodingOverride | _NotXMLType):
            notes.append(f"not well-formed XML, read leniently: {reason}")
    entries = []
    for entry in parsed.entries:
        key = entry.get("id") or entry.get("link")
        if not key:
            continue
        entries.append(
            EntryData(
                key=str(key),
                title=_title(entry),
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
        title=parsed.feed.get("title"),
        link=parsed.feed.get("link"),
        entries=tuple(entries),
        notes=tuple(notes),
    )
