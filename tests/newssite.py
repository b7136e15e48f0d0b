"""The news site that article-page tests poll: a local HTTP server with a
feed whose entries link to pages, and pages that change between polls
(tests/data/pages/TEMPLATE/vN.html), served with ETags, statuses and
redirects. Its fixtures (`site`, `world`) are loaded by conftest.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

PAGES = Path(__file__).parent / "data" / "pages"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


class NewsSite:
    """A news site: /feed.xml lists items linking to pages; each page is
    served with an ETag (304 when echoed), or a status, or a redirect."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.items: list[tuple[str, str]] = []  # (title, path)
        self.pages: dict[str, str] = {}
        self.status: dict[str, int] = {}
        self.redirects: dict[str, str] = {}
        self.once: dict[str, list[str]] = {}  # bodies served once, before pages[path]
        self.hits: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        server.expect_request("/feed.xml").respond_with_handler(self.feed)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def publish(self, path: str, html: str) -> None:
        if path not in self.pages:
            self.server.expect_request(path).respond_with_handler(self.page)
        self.pages[path] = html

    def feed(self, request: Request) -> Response:
        items = "".join(
            f"<item><title>{title}</title><link>{self.url(path)}</link>"
            f"<guid>{self.url(path)}</guid>"
            "<pubDate>Mon, 02 Mar 2026 08:05:00 +0000</pubDate>"
            "<description>A short summary from the feed.</description></item>"
            for title, path in self.items
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Courier</title><link>{self.url('/')}</link><description>News</description>"
            f"{items}</channel></rss>"
        )
        etag = f'"{abs(hash(body))}"'
        self.hits.append((request.path, request.headers.get("If-None-Match")))
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(
            body, content_type="application/rss+xml; charset=utf-8", headers={"ETag": etag}
        )

    def page(self, request: Request) -> Response:
        path = request.path
        self.hits.append((path, request.headers.get("If-None-Match")))
        if path in self.redirects:
            return Response(status=301, headers={"Location": self.url(self.redirects[path])})
        if path in self.status:
            return Response("Not here", status=self.status[path], content_type="text/html")
        if self.once.get(path):
            return Response(self.once[path].pop(0), content_type="text/html; charset=utf-8")
        html = self.pages[path]
        etag = f'"{abs(hash(html))}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(html, content_type="text/html; charset=utf-8", headers={"ETag": etag})

    def hits_of(self, path: str) -> int:
        return sum(1 for p, _ in self.hits if p == path)


@pytest.fixture
def site(httpserver: HTTPServer) -> NewsSite:
    return NewsSite(httpserver)


@pytest.fixture
def world(site: NewsSite, make_settings: Any, store_for: Any, clock: Any) -> Any:
    """(settings, store, updater) for one fetch_articles feed on `site`."""

    def make(**scheduler: Any) -> tuple[Any, Store, Updater]:
        settings = make_settings(
            [{"name": "courier", "sources": [site.url("/feed.xml")], "fetch_articles": True}],
            scheduler={"interval": "15m", "developing_interval": "2m", **scheduler},
        )
        store = store_for(settings)
        store.sync_sources(settings.feeds, clock())
        return settings, store, Updater(settings, store, clock=clock)

    return make


def atom(settings: Any, store: Store) -> Any:
    parsed = feedparser.parse(
        create_app(settings, store).test_client().get("/feeds/courier.atom").data
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def next_check(store: Store, aid: str) -> datetime | None:
    return store.get_article(aid).next_check_at
