"""Characters XML forbids never reach a document: an upstream field holding
ESC or NUL (raw, or as &#x1b;) is served without them, in every field of
every XML and HTML document, instead of breaking the feed with a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer
from werkzeug import Response

from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

# What XML 1.0 forbids, as they reach a document (lone surrogates cannot be
# sent in UTF-8, so an upstream cannot send them).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Each field of an RSS item, carrying raw control characters and their
# character references (feedparser decodes both the same way).
FIELDS = {
    "title": "Storm\x1b[31m closes &#x1b;the bridge",
    "link": "http://127.0.0.1/storm",
    "guid": "storm-1",
    "author": "jane@news.test (Jane\x1b Doe&#x1b;)",
    "category": "Weather\x1b&#x1b;",
    "comments": "http://127.0.0.1/storm#comments",
    "description": "The bridge\x08 was closed&#x1b; on Tuesday. \uffff A beam is cracked.",
}


def rss(fields: dict[str, str]) -> bytes:
    item = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Wire\x1b</title><link>http://127.0.0.1/</link><description>d</description>"
        f"<item>{item}</item></channel></rss>"
    ).encode()


@pytest.fixture
def served(httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any) -> Any:
    bodies = [rss(FIELDS), rss({**FIELDS, "description": FIELDS["description"] + " More\x0c."})]
    httpserver.expect_request("/wire.rss").respond_with_handler(
        lambda request: Response(bodies[0], content_type="application/rss+xml")
    )
    settings = make_settings(
        [{"name": "wire", "title": "Wire desk", "sources": [httpserver.url_for("/wire.rss")]}]
    )
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    assert [o.error for o in updater.poll("t")] == [None]
    bodies.pop(0)  # the story is revised: a second version
    clock.advance(60)
    assert [o.new_versions for o in updater.poll("t", due_only=False)] == [1]
    app = create_app(settings, store)
    app.testing = True
    return app.test_client(), store


def article_id(store: Store) -> str:
    return store.find_article("storm-1").id


XML_DOCUMENTS = [
    "/feeds/wire.atom",
    "/feeds/wire.rss",
    "/feeds/wire/revisions.atom",
    "/articles/{id}.atom",
    "/feeds.opml",
]
HTML_DOCUMENTS = [
    "/",
    "/articles/{id}",
    "/articles/{id}/versions/1",
    "/articles/{id}/versions/2",
    "/articles/{id}/diff/1...2",
    "/articles/{id}/diff/1...2?view=side",
]


@pytest.mark.parametrize("path", XML_DOCUMENTS)
def test_every_xml_document_is_well_formed_and_free_of_forbidden_characters(
    served: Any, path: str
) -> None:
    client, store = served
    response = client.get(path.format(id=article_id(store)))
    assert response.status_code == 200, response.data[:500]
    text = response.data.decode("utf-8")
    assert not FORBIDDEN.search(text)
    assert not re.search(r"&#x?0*(1b|27|8|c|0);", text, re.I)  # nor as references
    etree.fromstring(response.data)  # strict: raises on anything XML forbids


@pytest.mark.parametrize("path", HTML_DOCUMENTS)
def test_every_html_page_is_free_of_forbidden_characters(served: Any, path: str) -> None:
    client, store = served
    response = client.get(path.format(id=article_id(store)))
    assert response.status_code == 200, response.data[:500]
    assert not FORBIDDEN.search(response.data.decode("utf-8"))


def test_the_fields_keep_their_text_without_the_forbidden_characters(served: Any) -> None:
    client, store = served
    aid = article_id(store)
    atom = client.get("/feeds/wire.atom").data.decode()
    assert "Storm[31m closes the bridge" in atom  # title
    assert "Jane Doe" in atom  # author
    assert "The bridge was closed on Tuesday.  A beam is cracked." in atom
    page = client.get(f"/articles/{aid}").data.decode()
    assert "Storm[31m closes the bridge" in page
