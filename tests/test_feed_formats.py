"""The feeds beside the main Atom feed: revisions.atom (one entry per
revision), /articles/ID.atom (one article's versions), RSS 2.0 and OPML."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from feedsvc.render import entry_id, revision_id
from feedsvc.storage import Store
from feedsvc.web import create_app
from tests.newsroom import BRIDGE, HEADLINE, MARKER, P1, P4, Newsroom


@pytest.fixture
def newsroom(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    return Newsroom(tmp_path, make_settings, store_for, clock)


def get_feed(newsroom: Newsroom, path: str) -> Any:
    response = newsroom.app().test_client().get(path)
    assert response.status_code == 200, response.data[:300]
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


# -- revisions.atom ------------------------------------------------------------


def test_revisions_feed_has_one_entry_per_revision_newest_first(newsroom: Newsroom) -> None:
    bridge = newsroom.publish("bridge", BRIDGE)
    newsroom.write("flood", "Flood warning for the river", ["River levels are rising."])
    newsroom.poll()
    flood = newsroom.article("flood")
    feed = get_feed(newsroom, "/feeds/city/revisions.atom")
    assert [e.id for e in feed.entries] == [
        revision_id(flood.id, 1),
        *(revision_id(bridge.id, n) for n in (5, 4, 3, 2, 1)),
    ]
    assert feed.entries[0].title == "Flood warning for the river (new)"
    assert feed.entries[1].title == "Harbour bridge to stay shut for a month (updated, version 5)"


def test_revision_entry_updated_is_when_the_revision_was_seen(newsroom: Newsroom) -> None:
    bridge = newsroom.publish("bridge", BRIDGE[:2])
    feed = get_feed(newsroom, "/feeds/city/revisions.atom")
    seen = {v.number: v.seen_at for v in newsroom.store.get_versions(bridge.id)}
    assert [e.updated_parsed[:6] for e in feed.entries] == [seen[n].timetuple()[:6] for n in (2, 1)]


def test_revision_entry_content_marks_insertions_and_deletions_inline(
    newsroom: Newsroom,
) -> None:
    newsroom.publish("bridge", BRIDGE[:4])
    feed = get_feed(newsroom, "/feeds/city/revisions.atom")
    latest = etree.fromstring(f"<div>{feed.entries[0].content[0].value}</div>", etree.HTMLParser())
    deleted = [" ".join(d.itertext()) for d in latest.iter("del")]
    inserted = [" ".join(i.itertext()) for i in latest.iter("ins")]
    # Version 4 changed "ten" to "fifteen" and dropped the developing marker.
    assert deleted == ["ten", MARKER]
    assert inserted == ["fifteen"]
    for mark in [*latest.iter("del"), *latest.iter("ins")]:
        assert "text-decoration" in mark.get("style")  # visible without any stylesheet
    assert not list(latest.iter("style"))


def test_revision_entry_shows_only_changed_paragraphs_with_context(newsroom: Newsroom) -> None:
    newsroom.publish("bridge", BRIDGE[:2])
    content = get_feed(newsroom, "/feeds/city/revisions.atom").entries[0].content[0].value
    assert P4 in content  # the added paragraph
    assert P1 not in content  # far from the change: folded
    assert "[2 unchanged paragraphs]" in content
    assert "/articles/" in content and "/diff/1...2" in content


def test_revision_entry_shows_a_headline_change(newsroom: Newsroom) -> None:
    newsroom.publish("bridge", BRIDGE[:3])
    content = get_feed(newsroom, "/feeds/city/revisions.atom").entries[0].content[0].value
    [headline] = [
        p
        for p in etree.fromstring(content, etree.HTMLParser()).iter("p")
        if "Headline:" in p.xpath("string()")
    ]

    def side(drop: str) -> str:
        kept = copy.deepcopy(headline)
        for mark in kept.iter(drop):
            mark.text = ""
        return " ".join(kept.xpath("string()").removeprefix("Headline:").split())

    assert side(drop="ins") == HEADLINE
    assert side(drop="del") == "Harbour bridge to stay shut for a month"


def test_markup_in_article_text_is_escaped_in_the_diff(newsroom: Newsroom) -> None:
    newsroom.publish(
        "bridge",
        [
            (HEADLINE, [P1]),
            (HEADLINE, [P1, '<script>alert("x")</script> <img src=x onerror=alert(1)>']),
        ],
    )
    body = newsroom.app().test_client().get("/feeds/city/revisions.atom").data
    content = feedparser.parse(body).entries[0].content[0].value
    assert "<script" not in content and "<img" not in content
    assert "&lt;script&gt;" in content


def test_revision_ids_and_bytes_are_stable_across_renders_and_restarts(
    newsroom: Newsroom,
) -> None:
    newsroom.publish("bridge", BRIDGE[:3])
    first = newsroom.app().test_client().get("/feeds/city/revisions.atom").data
    again = newsroom.app().test_client().get("/feeds/city/revisions.atom").data
    restarted = Store(newsroom.settings.service.database)
    try:
        client = create_app(newsroom.settings, restarted).test_client()
        after_restart = client.get("/feeds/city/revisions.atom").data
    finally:
        restarted.close()
    assert first == again == after_restart
    # A new revision adds an entry; the ids of the earlier ones stay.
    old_ids = [e.id for e in feedparser.parse(first).entries]
    newsroom.write("bridge", *BRIDGE[3])
    newsroom.poll()
    new_ids = [e.id for e in get_feed(newsroom, "/feeds/city/revisions.atom").entries]
    assert new_ids[1:] == old_ids


def test_revisions_feed_of_an_unknown_feed_is_404(newsroom: Newsroom) -> None:
    assert newsroom.app().test_client().get("/feeds/nope/revisions.atom").status_code == 404


# -- /articles/ID.atom -----------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 5])
def test_article_feed_has_every_version_newest_first(newsroom: Newsroom, count: int) -> None:
    bridge = newsroom.publish("bridge", BRIDGE[:count])
    feed = get_feed(newsroom, f"/articles/{bridge.id}.atom")
    assert [e.id for e in feed.entries] == [revision_id(bridge.id, n) for n in range(count, 0, -1)]
    assert feed.feed.title == BRIDGE[count - 1][0]
    oldest = feed.entries[-1]
    assert P1 in oldest.content[0].value and MARKER in oldest.content[0].value
    assert oldest.link == f"http://feeds.test/articles/{bridge.id}/versions/1"


def test_article_feed_of_an_unknown_article_is_404(newsroom: Newsroom) -> None:
    assert newsroom.app().test_client().get("/articles/0123456789abcdef.atom").status_code == 404


# -- RSS 2.0 ---------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 5])
def test_rss_items_carry_a_stable_guid_pubdate_and_the_update_history(
    newsroom: Newsroom, count: int
) -> None:
    bridge = newsroom.publish("bridge", BRIDGE[:count])
    response = newsroom.app().test_client().get("/feeds/city.rss")
    assert response.mimetype == "application/rss+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo
    assert feed.version == "rss20"
    assert feed.feed.link == "http://feeds.test/"
    [item] = feed.entries
    assert item.id == entry_id(bridge.id)
    assert item.guidislink is False
    assert item.published_parsed[:6] == bridge.first_seen_at.timetuple()[:6]
    assert "Update history" in item.description
    assert f"Version {count}," in item.description

    channel = etree.fromstring(response.data).find("channel")
    guid = channel.find("item/guid")
    assert guid.get("isPermaLink") == "false"


# -- OPML --------------------------------------------------------------------------


def test_opml_lists_every_feed_and_its_revisions_feed(
    tmp_path: Path, make_settings: Any, store_for: Any
) -> None:
    settings = make_settings(
        [
            {"name": "city", "title": "City News", "sources": [str(tmp_path)]},
            {"name": "world", "title": "World & Nation", "sources": [str(tmp_path)]},
        ]
    )
    client = create_app(settings, store_for(settings)).test_client()
    response = client.get("/feeds.opml")
    assert response.status_code == 200
    root = etree.fromstring(response.data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert urls == [
        "http://feeds.test/feeds/city.atom",
        "http://feeds.test/feeds/world.atom",
        "http://feeds.test/feeds/city/revisions.atom",
        "http://feeds.test/feeds/world/revisions.atom",
        "http://feeds.test/feeds/city/revisions.atom?stealth=1",
        "http://feeds.test/feeds/world/revisions.atom?stealth=1",
    ]
    assert [o.get("title") for o in root.find("body").findall("outline")][:2] == [
        "City News",
        "World & Nation",
    ]
    for url in urls:  # every listed feed is served
        assert client.get(url.removeprefix("http://feeds.test")).status_code == 200


def test_every_link_in_these_feeds_resolves(newsroom: Newsroom) -> None:
    bridge = newsroom.publish("bridge", BRIDGE)
    client = newsroom.app().test_client()
    documents = [
        "/feeds/city/revisions.atom",
        f"/articles/{bridge.id}.atom",
        "/feeds/city.rss",
        "/feeds.opml",
    ]
    hrefs: set[str] = set()
    for path in documents:
        body = client.get(path).get_data(as_text=True)
        # Links in attributes, in RSS <link> text, and escaped inside content.
        for found in re.findall(
            r'(?:href|xmlUrl|htmlUrl)=(?:"|&quot;)(http://feeds\.test[^"&]*)', body
        ):
            hrefs.add(found)
        hrefs.update(re.findall(r"<link>(http://feeds\.test[^<]*)</link>", body))
    assert any("/diff/" in h for h in hrefs) and any("/versions/" in h for h in hrefs)
    assert len(hrefs) > 10, hrefs
    for href in sorted(hrefs):
        status = client.get(href.removeprefix("http://feeds.test")).status_code
        assert status == 200, href
