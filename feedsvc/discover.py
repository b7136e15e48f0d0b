"""Feed discovery: what a URL someone wants to follow turned out to be.

Pure: given an answer (final URL, content type, body) it says whether it is
a feed, an HTML page that advertises feeds (`<link rel="alternate">` with an
RSS, Atom or JSON Feed type), or a page to follow as it is. `feedsvc add`
fetches; this only reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from feedsvc.charset import decode_html
from feedsvc.parse import looks_like_feed
from feedsvc.text import one_line

FEED_TYPES = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/rdf+xml": "RSS",
    "application/feed+json": "JSON Feed",
    "application/json": "JSON Feed",
    "application/x-rss+xml": "RSS",
    "text/xml": "RSS",
}
_COMMENTS = re.compile(r"\bcomments?\b", re.IGNORECASE)
_SITE_SUFFIX = (" | ", " - ", " \u2013 ", " \u2014 ", " :: ", " \u00b7 ")


@dataclass(frozen=True)
class Alternate:
    """A feed a page advertises."""

    url: str
    kind: str  # RSS, Atom, JSON Feed
    title: str | None

    @property
    def comments(self) -> bool:
        """A comments feed (WordPress advertises one per post): not the news."""
        return bool(self.title and _COMMENTS.search(self.title)) or "/comments/" in self.url


@dataclass(frozen=True)
class Found:
    """What a URL is: `kind` is "feed", "page with feeds" or "page"."""

    url: str
    kind: str
    title: str | None
    alternates: tuple[Alternate, ...] = ()

    def chosen(self, every: bool) -> list[Alternate]:
        """The feeds to follow: the first news feed (comments feeds last), or
        all of them with every=True."""
        ordered = sorted(self.alternates, key=lambda a: a.comments)  # stable
        return list(ordered) if every else ordered[:1]


def discover(url: str, content_type: str, body: bytes) -> Found:
    """Read an answer from `url` (after redirects)."""
    media = content_type.split(";")[0].strip().lower()
    if looks_like_feed(body, media) or _json_feed(media, body):
        return Found(url, "feed", feed_title(body, media))
    text = decode_html(body, content_type)
    try:
        doc = lxml.html.document_fromstring(text or "<html></html>")
    except (etree.ParserError, ValueError):
        return Found(url, "page", None)
    base = _base(doc, url)
    alternates: list[Alternate] = []
    seen: set[str] = set()
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        href = (link.get("href") or "").strip()
        if "alternate" not in rels or kind is None or not href:
            continue
        absolute = _absolute(base, href)
        if absolute is None or absolute in seen:
            continue
        seen.add(absolute)
        alternates.append(Alternate(absolute, kind, one_line(link.get("title"))))
    title = page_title(doc)
    if alternates:
        return Found(url, "page with feeds", title, tuple(alternates))
    return Found(url, "page", title)


def _json_feed(media: str, body: bytes) -> bool:
    if media not in ("application/feed+json", "application/json"):
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    )


def feed_title(body: bytes, media: str) -> str | None:
    """A feed's own title (RSS channel/title, Atom feed/title, JSON Feed title)."""
    if media in ("application/feed+json", "application/json"):
        try:
            value = json.loads(body).get("title")
        except (ValueError, AttributeError):
            return None
        return one_line(value) if isinstance(value, str) else None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local in ("item", "entry"):
            break  # an entry's title is not the feed's
        if local == "title":
            return one_line("".join(el.itertext()))
    return None


def page_title(doc: lxml.html.HtmlElement) -> str | None:
    """The site's name: og:site_name, else <title> without its decoration."""
    for meta in doc.iter("meta"):
        if (meta.get("property") or "").lower() == "og:site_name" and meta.get("content"):
            return one_line(meta.get("content"))
    title = doc.find(".//title")
    if title is None:
        return None
    return one_line(title.text_content())


def _base(doc: lxml.html.HtmlElement, url: str) -> str:
    base = doc.find(".//base")
    href = base.get("href") if base is not None else None
    if href:
        absolute = _absolute(url, href.strip())
        if absolute:
            return absolute
    return url


def _absolute(base: str, href: str) -> str | None:
    """href resolved against base (relative and protocol-relative); None
    unless the result is an http(s) URL."""
    try:
        absolute = urljoin(base, href)
    except ValueError:
        return None
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def site_name(title: str | None) -> str | None:
    """The site part of a page title like "Latest news | The Gazette"."""
    if not title:
        return None
    for sep in _SITE_SUFFIX:
        if sep in title:
            return title.rsplit(sep, 1)[-1].strip() or title
    return title


FEED_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


def feed_name_for(url: str) -> str:
    """A feed name derived from a site's address: its host without "www."
    ("https://www.example.org/news" -> "example.org")."""
    host = (urlsplit(url).hostname or "feed").lower().removeprefix("www.")
    name = FEED_NAME_CHARS.sub("-", host).strip("-._") or "feed"
    return name[:64]


def slug(text: str) -> str:
    """A feed name from a category title ("World News" -> "world-news")."""
    name = FEED_NAME_CHARS.sub("-", text.strip().lower()).strip("-._")
    return name[:64] or "imported"
