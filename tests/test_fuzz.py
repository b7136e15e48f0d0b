"""Property tests of the whole ingest path: whatever bytes an upstream sends
(generated feeds with arbitrary titles, ids and bodies, raw or escaped, cut
or corrupted), a poll never crashes, and every document served afterwards
is well-formed XML that feedparser reads without complaint."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedsvc import config
from feedsvc.pool import poll_sources
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app
from tests.harness import FakeWeb

UPSTREAM = "http://upstream.test/feed.xml"
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069]")


class Rig:
    """One store and updater for every example: a source whose upstream
    answers whatever the current example says."""

    def __init__(self, folder: Path) -> None:
        self.settings = config.from_mapping(
            {
                "service": {
                    "base_url": "http://feeds.test",
                    "database": f"sqlite:///{folder}/fuzz.db",
                },
                "feeds": [{"name": "fuzz", "sources": [UPSTREAM]}],
            }
        )
        self.store = Store(self.settings.service.database)
        self.now = datetime(2026, 3, 1, tzinfo=UTC)
        self.store.sync_sources(self.settings.feeds, self.now)
        self.web = FakeWeb()
        fetcher = self.web.fetcher(clock=lambda: self.now)
        self.updater = Updater(self.settings, self.store, fetcher, clock=lambda: self.now)
        self.client = create_app(self.settings, self.store).test_client()
        self.crashes: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: self.crashes.append(  # type: ignore[method-assign]
            logging.Formatter().format(record)
        )
        handler.setLevel(logging.ERROR)
        logging.getLogger("feedsvc").addHandler(handler)
        self.handler = handler

    def poll(self, body: bytes, content_type: str) -> None:
        self.web.publish(UPSTREAM, body, content_type)
        self.crashes.clear()
        self.now += timedelta(hours=1)
        outcomes = poll_sources(self.updater, "fuzz", due_only=False)
        assert len(outcomes) == 1
        error = outcomes[0].error
        assert error is None or "\n" not in error
        assert self.crashes == [], self.crashes[0]

    def check_served(self) -> None:
        for path in ("/feeds/fuzz.atom", "/feeds/fuzz/revisions.atom", "/feeds/fuzz.rss"):
            response = self.client.get(path)
            assert response.status_code == 200, path
            etree.fromstring(response.data, etree.XMLParser(resolve_entities=False))
            parsed = feedparser.parse(response.data)
            assert not parsed.bozo, (path, parsed.bozo_exception)
            for entry in parsed.entries:
                assert not CONTROLS.search(entry.get("title", "")), entry.get("title")

    def close(self) -> None:
        logging.getLogger("feedsvc").removeHandler(self.handler)
        self.updater.close()
        self.store.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("fuzz"))
    yield r
    r.close()


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
tags = st.sampled_from(["p", "div", "b", "i", "a", "script", "span", "table", "td", "ul", "li"])


@st.composite
def html(draw: Any) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        tag = draw(tags)
        attrs = draw(
            st.sampled_from(["", ' href="javascript:alert(1)"', ' onclick="x()"', ' class="k"'])
        )
        close = draw(st.booleans())
        parts.append(f"<{tag}{attrs}>{draw(words)}" + (f"</{tag}>" if close else ""))
    return "".join(parts)


@st.composite
def entry(draw: Any) -> dict[str, Any]:
    return {
        "id": draw(st.one_of(words, st.sampled_from(["urn:a", "urn:b", "urn:c"]))),
        "title": draw(words),
        "body": draw(st.one_of(words, html())),
        "date": draw(
            st.sampled_from(
                [
                    "",
                    "Sun, 01 Mar 2026 08:30:00 +0000",
                    "yesterday",
                    "Fri, 31 Dec 9999 23:59:59 +0000",
                    "Thu, 01 Jan 1970 00:00:00 +0000",
                ]
            )
        ),
    }


def rss(entries: list[dict[str, Any]], raw: bool) -> bytes:
    """An RSS document; `raw` puts the text in without escaping, as broken
    publishers do."""
    esc = (lambda s: s) if raw else escape
    items = "".join(
        f"<item><guid>{esc(e['id'])}</guid><title>{esc(e['title'])}</title>"
        + (f"<pubDate>{e['date']}</pubDate>" if e["date"] else "")
        + f"<description>{esc(e['body'])}</description></item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Fuzz</title>'
        f"<link>http://upstream.test/</link><description>d</description>{items}</channel></rss>"
    ).encode("utf-8", "surrogatepass")


def atom(entries: list[dict[str, Any]]) -> bytes:
    items = "".join(
        f"<entry><id>{escape(e['id'])}</id><title type='html'>{escape(e['title'])}</title>"
        "<updated>2026-03-01T09:00:00Z</updated>"
        f"<content type='html'>{escape(e['body'])}</content></entry>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Fuzz</title><id>urn:fuzz</id><updated>2026-03-01T09:00:00Z</updated>{items}</feed>"
    ).encode()


@st.composite
def corrupted(draw: Any, body: bytes) -> bytes:
    kind = draw(st.sampled_from(["none", "none", "cut", "garbage"]))
    if kind == "cut" and body:
        return body[: draw(st.integers(0, len(body) - 1))]
    if kind == "garbage" and body:
        at = draw(st.integers(0, len(body)))
        return body[:at] + draw(st.binary(max_size=20)) + body[at:]
    return body


@st.composite
def documents(draw: Any) -> tuple[bytes, str]:
    entries = draw(st.lists(entry(), max_size=5))
    fmt = draw(st.sampled_from(["rss", "rss-raw", "atom"]))
    if fmt == "atom":
        body, content_type = atom(entries), "application/atom+xml"
    else:
        body, content_type = rss(entries, raw=fmt == "rss-raw"), "application/rss+xml"
    return draw(corrupted(body)), content_type


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents())
def test_any_upstream_document_polls_cleanly_and_serves_valid_feeds(
    rig: Rig, document: tuple[bytes, str]
) -> None:
    body, content_type = document
    rig.poll(body, content_type)
    rig.check_served()
