"""The whole path, end to end: an RSS feed on a local HTTP server is polled
into versions and served as Atom with the entry's update history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import feedparser
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feedsvc.pool import poll_sources
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

P1 = (
    "Engineers closed the Harbour Bridge early on Tuesday after an overnight "
    "inspection found cracks in a steel beam of the main span."
)
P2 = "Ferries will run every ten minutes in both directions until further notice."
P3 = (
    "On Wednesday the city said two more cracks had been found and that the bridge "
    "would stay closed for at least a month while a temporary support is built."
)
MARKER = "More details to follow."


def rss(title: str, paragraphs: list[str], guid: str = "urn:news:bridge-1") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>City News</title><link>http://news.test/</link><description>Local</description>
<item>
  <title>{title}</title>
  <link>http://news.test/2026/03/bridge</link>
  <guid isPermaLink="false">{guid}</guid>
  <pubDate>Sun, 01 Mar 2026 08:30:00 +0000</pubDate>
  <description><![CDATA[{body}]]></description>
</item>
</channel></rss>""".encode()


class Upstream:
    """A feed that serves its current bytes with an ETag and answers 304
    when the client echoes it."""

    def __init__(self, server: HTTPServer, body: bytes) -> None:
        self.body = body
        self.version = 1
        self.requests: list[dict[str, Any]] = []
        server.expect_request("/feed.xml").respond_with_handler(self.handle)
        self.url = server.url_for("/feed.xml")

    def publish(self, body: bytes) -> None:
        self.body = body
        self.version += 1

    def handle(self, request: Request) -> Response:
        etag = f'"v{self.version}"'
        self.requests.append(dict(request.headers))
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        modified = datetime(2026, 3, 1, 8, 30, tzinfo=UTC) + timedelta(hours=self.version)
        return Response(
            self.body,
            content_type="application/rss+xml; charset=utf-8",
            headers={"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)},
        )


@pytest.fixture
def upstream(httpserver: HTTPServer) -> Upstream:
    return Upstream(httpserver, rss("Harbour bridge closed", [P1, P2, MARKER]))


def test_revised_rss_entry_is_one_atom_entry_with_its_history(
    upstream: Upstream, make_settings: Any, store_for: Any, clock: Any
) -> None:
    settings = make_settings([{"name": "city", "title": "City News", "sources": [upstream.url]}])
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)

    first = poll_sources(updater, "test", due_only=False)
    assert [(o.new_articles, o.new_versions, o.error) for o in first] == [(1, 1, None)]
    atom_v1 = feedparser.parse(
        create_app(settings, store).test_client().get("/feeds/city.atom").data
    )

    clock.advance(600)
    upstream.publish(rss("Harbour bridge closed", [P1, P2, P3]))
    second = poll_sources(updater, "test", due_only=False)
    assert [(o.new_articles, o.new_versions) for o in second] == [(0, 1)]

    clock.advance(600)
    third = poll_sources(updater, "test", due_only=False)
    assert [(o.not_modified, o.new_versions) for o in third] == [(True, 0)]
    assert upstream.requests[-1]["If-None-Match"] == '"v2"'

    article = store.find_article("urn:news:bridge-1")
    assert [v.number for v in store.get_versions(article.id)] == [1, 2]

    response = create_app(settings, store).test_client().get("/feeds/city.atom")
    assert response.status_code == 200
    atom = feedparser.parse(response.data)
    assert not atom.bozo, atom.get("bozo_exception")
    assert len(atom.entries) == 1
    entry = atom.entries[0]
    assert entry.id == atom_v1.entries[0].id
    assert entry.updated_parsed > atom_v1.entries[0].updated_parsed
    content = entry.content[0].value
    assert "two more cracks" in content
    assert MARKER not in content.split("Update history")[0]
    history = content.split("Update history")[1]
    assert "Version 1" in history and "Version 2" in history
    assert "/diff/1...2" in history
    assert {t.term for t in entry.tags} >= {"updated"}
    rels = {link.rel: link.href for link in entry.links}
    assert rels["alternate"] == "http://news.test/2026/03/bridge"
    assert rels["version-history"] == f"http://feeds.test/articles/{article.id}"
    assert rels["predecessor-version"] == f"http://feeds.test/articles/{article.id}/versions/1"


def test_first_poll_marks_a_developing_story(
    upstream: Upstream, make_settings: Any, store_for: Any, clock: Any
) -> None:
    settings = make_settings([{"name": "city", "sources": [upstream.url]}])
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    poll_sources(Updater(settings, store, clock=clock), "test", due_only=False)

    atom = feedparser.parse(create_app(settings, store).test_client().get("/feeds/city.atom").data)
    assert {t.term for t in atom.entries[0].tags} == {"developing"}
