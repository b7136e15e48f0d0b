"""Every link we publish resolves: crawl the pages and the feeds from the
index, following every internal link, and expect a 200 for each."""

from __future__ import annotations

import html
import re
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

from tests.stories import make_site

BASE = "http://feeds.test"
ATOM_NS = "{http://www.w3.org/2005/Atom}"


def html_links(body: str, url: str) -> list[str]:
    doc = lxml.html.fromstring(body)
    found = [el.get("href") for el in doc.xpath("//a[@href] | //link[@href]")]
    found += [el.get("src") for el in doc.xpath("//*[@src]")]
    return [urljoin(url, href) for href in found if href]


def feed_links(body: bytes, url: str) -> list[str]:
    root = etree.fromstring(body)
    found = [el.get("href") for el in root.iter(f"{ATOM_NS}link", "link")]
    found += [el.text for el in root.iter(f"{ATOM_NS}icon", f"{ATOM_NS}logo")]
    # Links inside entry content (the "what changed" links of the history).
    for content in root.iter(f"{ATOM_NS}content", f"{ATOM_NS}summary", "description"):
        if content.text:
            found += re.findall(r'href="([^"]+)"', html.unescape(content.text))
    return [urljoin(url, href) for href in found if href]


def test_every_internal_link_on_pages_and_feeds_resolves(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    site = make_site(tmp_path, make_settings, store_for, clock, versions=5)
    client = site.client
    queue = deque([f"{BASE}/", f"{BASE}/feeds/city.atom"])
    seen: set[str] = set(queue)
    failures = []
    kinds: set[str] = set()
    while queue:
        url = queue.popleft()
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.get(path)
        if response.status_code != 200:
            failures.append((url, response.status_code))
            continue
        kinds.add(response.mimetype)
        if response.mimetype == "text/html":
            links = html_links(response.get_data(as_text=True), url)
        elif response.mimetype.endswith("xml"):
            links = feed_links(response.data, url)
        else:
            links = []
        for link in links:
            link = urldefrag(link).url
            if link.startswith(BASE) and link not in seen:
                seen.add(link)
                queue.append(link)
    assert failures == []
    # The crawl reached the pages and formats the story has, not just the index.
    aid = site.article().id
    for expected in [
        f"{BASE}/articles/{aid}",
        f"{BASE}/articles/{aid}/versions/1",
        f"{BASE}/articles/{aid}/versions/5.txt",
        f"{BASE}/articles/{aid}/diff/4...5",
        f"{BASE}/articles/{aid}/diff/4...5?view=side",
        f"{BASE}/articles/{aid}/diff/4...5.diff",
        f"{BASE}/static/style.css",
    ]:
        assert expected in seen
    assert {"text/html", "application/atom+xml", "text/x-diff", "text/plain", "text/css"} <= kinds
