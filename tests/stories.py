"""A developing story told in five versions, written to the newsroom's
folder and polled into a real store, for the page, crawl, CLI and browser
tests; and helpers to read the HTML pages served about it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxml.html

from tests.newsroom import VERSIONS, Newsroom


def make_site(
    tmp_path: Path,
    make_settings: Any,
    store_for: Any,
    clock: Any,
    versions: int = 5,
    service: dict[str, Any] | None = None,
) -> Newsroom:
    """The newsroom's feed "city" with city/bridge.txt polled once per version
    of the story (up to five), ten minutes apart. `service` overrides
    [service] settings (base_url, say)."""
    room = Newsroom(tmp_path, make_settings, store_for, clock, ("city",), **(service or {}))
    for title, paragraphs, _ in VERSIONS[:versions]:
        room.write("bridge", title, *paragraphs)
        room.poll(600)
    return room


ATOM = "application/atom+xml"


def page(site: Newsroom, path: str) -> lxml.html.HtmlElement:
    """GET an HTML page of the site, check it is one, and parse it."""
    response = site.client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.get_data(as_text=True))


def text_of(doc: lxml.html.HtmlElement, selector: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in doc.cssselect(selector)]


def discovery(doc: lxml.html.HtmlElement) -> list[str]:
    """The Atom feeds a page advertises."""
    return [el.get("href") for el in doc.cssselect(f'link[rel="alternate"][type="{ATOM}"]')]


def pages_of(site: Newsroom) -> list[str]:
    """Every HTML page about the site's article: index, timeline, each
    version, each step's diff inline and side by side."""
    aid = site.article().id
    n = site.article().latest_version
    paths = ["/", f"/articles/{aid}"]
    paths += [f"/articles/{aid}/versions/{k}" for k in range(1, n + 1)]
    paths += [f"/articles/{aid}/diff/{k}...{k + 1}" for k in range(1, n)]
    paths += [f"/articles/{aid}/diff/{k}...{k + 1}?view=side" for k in range(1, n)]
    return paths
