"""An article whose upstream HTML carries <script>, on* attributes and
javascript: URLs shows none of them anywhere we serve it: pages, plain
formats and feeds."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from feedsvc.pool import poll_sources
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

HOSTILE_BODY = """
<p onclick="alert('p')">Councillors voted to close the <b onmouseover="alert('b')">old
pier</b> after <a href="javascript:alert('a')">an inspection</a> found rot.</p>
<script>alert('script')</script>
<img src="x" onerror="alert('img')">
<p><a href="JaVaScRiPt:alert('mixed')">Read more</a>
<iframe src="javascript:alert('iframe')"></iframe>
<svg onload="alert('svg')"><circle r="1"/></svg>
<a href=" javascript:alert('space')">spaced</a>
<form action="javascript:alert('form')"><button formaction="javascript:alert('b')">Go</button></form>
<style>body { background: url("javascript:alert('css')") }</style></p>
"""


def rss(title: str, body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Pier News</title><link>http://news.test/</link>
<description>x</description>
<item><title>{title}</title><link>javascript:alert('link')</link>
<guid isPermaLink="false">urn:pier-1</guid>
<description><![CDATA[{body}]]></description></item>
</channel></rss>""".encode()


# Anything that would run: a script element, an event-handler attribute, a
# javascript: URL in any attribute (with entity or case tricks undone).
DANGER = re.compile(
    r"<\s*script|<\s*iframe|<\s*svg|<\s*form|\son[a-z]+\s*=|javascript:", re.IGNORECASE
)


def dangers(body: str) -> list[str]:
    """What would run in a browser. Text that merely reads "<script>" (an
    escaped title) is harmless; entities inside attributes are undone, as a
    browser undoes them (&#106;avascript:)."""
    attributes = " ".join(html.unescape(tag) for tag in re.findall(r"<[^>]+>", body))
    return DANGER.findall(attributes)


@pytest.fixture
def served(httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any) -> Any:
    feed = {"body": rss("Pier closed", HOSTILE_BODY)}
    httpserver.expect_request("/pier.xml").respond_with_handler(
        lambda _request: Response(feed["body"], content_type="application/rss+xml")
    )
    settings = make_settings(
        [{"name": "pier", "title": "Pier", "sources": [httpserver.url_for("/pier.xml")]}]
    )
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    poll_sources(updater, "test", due_only=False)
    feed["body"] = rss(
        "Pier closed <script>alert('title')</script>",
        HOSTILE_BODY.replace("found rot.", "found rot in 40 beams.<script>alert(2)</script>"),
    )
    clock.advance(900)
    poll_sources(updater, "test", due_only=False)
    updater.close()
    aid = store.find_article("urn:pier-1").id
    assert store.get_article(aid).latest_version == 2
    return create_app(settings, store).test_client(), aid


def test_pages_show_no_script_handler_or_javascript_url(served: Any) -> None:
    client, aid = served
    for path in [
        "/",
        f"/articles/{aid}",
        f"/articles/{aid}/versions/1",
        f"/articles/{aid}/versions/2",
        f"/articles/{aid}/diff/1...2",
        f"/articles/{aid}/diff/1...2?view=side",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert dangers(response.get_data(as_text=True)) == [], path


def test_article_text_survives_sanitising(served: Any) -> None:
    client, aid = served
    body = client.get(f"/articles/{aid}/versions/2").get_data(as_text=True)
    assert "<b>old\npier</b>" in body or "<b>old pier</b>" in body
    assert "found rot in 40 beams." in body


def test_rss_carries_no_script_handler_or_javascript_url(served: Any) -> None:
    client, _ = served
    response = client.get("/feeds/pier.rss")
    assert response.status_code == 200
    xml = response.get_data(as_text=True)
    assert dangers(xml) == []
    descriptions = re.findall(r"<description>(.*?)</description>", xml, re.DOTALL)
    for description in descriptions:
        assert dangers(html.unescape(description)) == []
    # The item's javascript: link is not passed on, whether as <link> or text.
    assert "javascript:" not in html.unescape(xml)


def test_feeds_carry_no_script_handler_or_javascript_url(served: Any) -> None:
    client, aid = served
    for path in ["/feeds/pier.atom", "/feeds/pier/revisions.atom", f"/articles/{aid}.atom"]:
        response = client.get(path)
        assert response.status_code == 200, path
        xml = response.get_data(as_text=True)
        assert dangers(xml) == [], path  # the feed's own elements and links
        # Entry content is HTML escaped once inside the XML: what a reader renders.
        contents = re.findall(r"<content[^>]*>(.*?)</content>", xml, re.DOTALL)
        assert contents, path
        for content in contents:
            assert dangers(html.unescape(content)) == [], path
