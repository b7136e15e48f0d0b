"""Every HTML page forbids script and framing (Content-Security-Policy,
X-Frame-Options), every answer says nosniff and no-referrer, and an
upstream's style attributes keep only harmless properties: nothing an
article carries can cover the page. Feeds keep their inline diff styles."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Response

from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app
from tests.newsroom import BRIDGE, Newsroom

COVER = "position:fixed;inset:0;z-index:99;background:url(http://news.test/x.png)"


def _every_page(app: Flask, aid: str) -> list[str]:
    good = {"name": "city", "aid": aid, "number": "2", "spec": "1...2", "filename": "style.css"}
    paths = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(r"<(?:[^:<>]+:)?" + name + ">", good[name], path)
        paths.append(path)
    return paths


def test_every_html_page_forbids_script_and_framing(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    room = Newsroom(tmp_path, make_settings, store_for, clock)
    aid = room.publish("bridge", BRIDGE[:2]).id
    client = room.app.test_client()
    html_pages = 0
    for path in [*_every_page(room.app, aid), "/no/such/page", f"/articles/{aid}/diff/2...1"]:
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        if response.mimetype != "text/html":
            continue
        html_pages += 1
        policy = dict(
            part.strip().split(" ", 1)
            for part in response.headers["Content-Security-Policy"].split(";")
        )
        assert policy["default-src"] == "'none'", path
        assert "script-src" not in policy, path  # so default-src 'none' applies
        assert policy["frame-ancestors"] == "'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path
    assert html_pages >= 6  # index, article, version, diff and the error pages


def rss(body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Pier News</title><link>http://news.test/</link>
<description>x</description>
<item><title>Pier closed</title><link>http://news.test/pier</link>
<guid isPermaLink="false">urn:pier-1</guid>
<description><![CDATA[{body}]]></description></item>
</channel></rss>""".encode()


@pytest.fixture
def pier(httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any) -> Any:
    body = {
        "text": rss(
            f'<p style="{COVER}">Click anywhere to continue.</p>'
            '<p>Councillors voted to close the <span style="color:#900;font-weight:bold">'
            "old pier</span> after an inspection found rot.</p>"
        )
    }
    httpserver.expect_request("/pier.xml").respond_with_handler(
        lambda _request: Response(body["text"], content_type="application/rss+xml")
    )
    settings = make_settings(
        [{"name": "pier", "title": "Pier", "sources": [httpserver.url_for("/pier.xml")]}]
    )
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    updater.poll("test", due_only=False)
    body["text"] = body["text"].replace(b"found rot.", b"found rot in 40 beams.")
    clock.advance(900)
    updater.poll("test", due_only=False)
    updater.close()
    aid = store.find_article("urn:pier-1").id
    assert store.get_article(aid).latest_version == 2
    return create_app(settings, store).test_client(), aid


def _styles(body: str) -> list[str]:
    return re.findall(r'style="([^"]*)"', body)


def test_upstream_styles_keep_only_harmless_properties(pier: Any) -> None:
    client, aid = pier
    for path in [f"/articles/{aid}", f"/articles/{aid}/versions/2", "/feeds/pier.atom"]:
        body = client.get(path).get_data(as_text=True)
        assert "Click anywhere to continue." in body
        for style in _styles(body.replace("&quot;", '"')):
            properties = {part.split(":")[0].strip() for part in style.split(";") if part}
            assert properties <= {"color", "background-color", "font-weight", "text-decoration"}
        assert "position" not in body and "inset" not in body and "url(" not in body
        assert "color:#900" in body  # harmless properties stay


def test_feeds_keep_their_inline_diff_styles(pier: Any) -> None:
    client, _ = pier
    body = client.get("/feeds/pier/revisions.atom").get_data(as_text=True)
    assert "background-color:#d7f5dd;color:#0b3d16;text-decoration:underline" in body
