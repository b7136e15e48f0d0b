"""Reading an OPML subscription list, as feed readers export it (Miniflux,
FreshRSS, NetNewsWire, Thunderbird, Feedly): every outline with an xmlUrl is
a subscription; the outermost category outline around it names its group.

Parsed with lxml with entities and network access off: an OPML file is
input from elsewhere like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from feedsvc.errors import UsageError
from feedsvc.text import one_line


@dataclass(frozen=True)
class Subscription:
    url: str
    title: str | None
    category: str | None  # the outermost enclosing outline's title


@dataclass(frozen=True)
class OpmlList:
    subscriptions: tuple[Subscription, ...]
    without_feed: int  # outlines that are neither a feed nor a category (htmlUrl only)
    not_http: int  # xmlUrl that is not an http(s) URL


def read_opml(data: bytes, name: str = "OPML file") -> OpmlList:
    if b"<!entity" in data.lower():  # a billion laughs fits in a small file
        raise UsageError(f"{name}: declares XML entities; an OPML export never needs them")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UsageError(f"{name}: not valid OPML: {exc}") from None
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise UsageError(f"{name}: not an OPML file (no <opml> root)")
    body = next((el for el in root if _local(el) == "body"), None)
    if body is None:
        raise UsageError(f"{name}: not an OPML file (no <body>)")
    subscriptions: list[Subscription] = []
    without_feed = not_http = 0

    def walk(node: etree._Element, category: str | None) -> None:
        nonlocal without_feed, not_http
        for outline in node:
            if _local(outline) != "outline":
                continue
            title = one_line(outline.get("title") or outline.get("text"))
            url = _attr(outline, "xmlurl")
            if url:
                if urlsplit(url).scheme.lower() in ("http", "https"):
                    subscriptions.append(Subscription(url, title, category))
                else:
                    not_http += 1
            elif len(outline):
                walk(outline, category or title)
            else:
                without_feed += 1

    walk(body, None)
    return OpmlList(tuple(subscriptions), without_feed, not_http)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname.lower() if isinstance(el.tag, str) else ""


def _attr(el: etree._Element, name: str) -> str | None:
    """An attribute by name in any case (xmlUrl, xmlurl, XMLURL all occur)."""
    for key, value in el.attrib.items():
        if str(key).lower() == name:
            text = str(value).strip()
            return text or None
    return None
