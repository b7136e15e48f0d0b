"""/feeds/NAME.atom to the letter of RFC 4287, paged as RFC 5005 section 3
says: what a feed reader and a program walking the history rely on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree

from tests.harness import ATOM, FakeClock, links, rfc4287
from tests.newsroom import Newsroom

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def newsroom(
    make_settings: Any, store_for: Any, tmp_path: Path, clock: FakeClock
) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path, make_settings, store_for, clock, ("news",), entries_per_page=50)
    yield room
    room.close()


def get(room: Newsroom, url: str) -> bytes:
    parts = urlsplit(url)
    response = room.client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert response.status_code == 200, response.data
    return response.data


def assert_valid_atom(body: bytes) -> etree._Element:
    """RFC 4287 in full: the RELAX NG schema of its appendix B, the rules it
    states in prose (Schematron in the RFC), and feedparser reading it
    without complaint."""
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    doc = etree.fromstring(body)
    schema = rfc4287()
    assert schema.validate(doc), schema.error_log.last_error
    assert doc.findtext(f"{ATOM}id")
    assert doc.findtext(f"{ATOM}title")
    assert len(links(doc, "self")) == 1
    assert links(doc, "alternate")
    assert doc.find(f"{ATOM}generator") is not None
    entries = doc.findall(f"{ATOM}entry")
    has_author = doc.find(f"{ATOM}author") is not None
    assert has_author or all(e.find(f"{ATOM}author") is not None for e in entries)
    for date in doc.iter(f"{ATOM}updated", f"{ATOM}published"):
        assert RFC3339.match(date.text or ""), date.text
    return doc


def entry_ids(doc: etree._Element) -> list[str]:
    return [e.findtext(f"{ATOM}id") or "" for e in doc.findall(f"{ATOM}entry")]


def test_the_feed_is_valid_atom_with_every_required_element(newsroom: Newsroom) -> None:
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.write("ferries", "Ferries every ten minutes")
    newsroom.poll()
    newsroom.write("bridge", "Harbour bridge closed", "Cracks found.", "More details to follow.")
    newsroom.poll()

    doc = assert_valid_atom(get(newsroom, "/feeds/news.atom"))

    assert doc.findtext(f"{ATOM}title") == "Harbour news"
    assert links(doc, "self") == ["http://feeds.test/feeds/news.atom"]
    assert links(doc, "first") == ["http://feeds.test/feeds/news.atom"]
    assert links(doc, "next") == []  # everything fits on the first page
    assert len(doc.findall(f"{ATOM}entry")) == 2


def test_entries_are_ordered_by_updated_and_keep_their_id_across_revisions(
    newsroom: Newsroom,
) -> None:
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.poll()
    newsroom.write("ferries", "Ferries every ten minutes")
    newsroom.poll()
    before = entry_ids(etree.fromstring(get(newsroom, "/feeds/news.atom")))

    newsroom.write("bridge", "Harbour bridge closed", "Cracks found in the main span.")
    newsroom.poll()
    doc = etree.fromstring(get(newsroom, "/feeds/news.atom"))

    assert entry_ids(doc) == list(reversed(before))  # the revised article moved up, same id
    updated = [e.findtext(f"{ATOM}updated") for e in doc.findall(f"{ATOM}entry")]
    assert updated == sorted(updated, reverse=True)
    assert doc.findtext(f"{ATOM}updated") == updated[0]


def publish_120_articles(room: Newsroom) -> None:
    """Three batches of 40 at different times: pages cross both a change of
    time and runs of articles updated in the same instant (ties)."""
    for batch in range(3):
        for i in range(40):
            room.write(f"story-{batch}-{i:02}", f"Story {batch}-{i}")
        room.poll()


def walk(room: Newsroom) -> list[etree._Element]:
    pages, url, seen = [], "http://feeds.test/feeds/news.atom", set()
    while url:
        assert url not in seen, "the next links go round in a circle"
        seen.add(url)
        doc = assert_valid_atom(get(room, url))
        pages.append(doc)
        following = links(doc, "next")
        url = following[0] if following else ""
    return pages


def test_following_next_visits_every_article_exactly_once(newsroom: Newsroom) -> None:
    publish_120_articles(newsroom)

    pages = walk(newsroom)

    assert [len(entry_ids(p)) for p in pages] == [50, 50, 20]
    ids = [i for p in pages for i in entry_ids(p)]
    assert len(ids) == len(set(ids)) == 120
    for page in pages:
        assert links(page, "first") == ["http://feeds.test/feeds/news.atom"]
    for page in pages[1:]:
        assert len(links(page, "previous")) == 1
        assert links(page, "self")[0].startswith("http://feeds.test/feeds/news.atom?before=")


def test_previous_leads_back_to_the_newer_entries(newsroom: Newsroom) -> None:
    publish_120_articles(newsroom)
    pages = walk(newsroom)

    back = etree.fromstring(get(newsroom, links(pages[1], "previous")[0]))

    assert entry_ids(back) == entry_ids(pages[0])


def test_an_older_page_keeps_its_bytes_when_a_newer_article_is_revised(
    newsroom: Newsroom,
) -> None:
    publish_120_articles(newsroom)
    first = walk(newsroom)[0]
    older_url = links(first, "next")[0]
    older = get(newsroom, older_url)

    newsroom.write("story-2-05", "Story 2-5", "A revised text for a story on the first page.")
    newsroom.poll()

    assert get(newsroom, older_url) == older  # same bytes, so the same ETag: still cacheable
    top = etree.fromstring(get(newsroom, "/feeds/news.atom")).find(f"{ATOM}entry")
    assert top is not None and top.findtext(f"{ATOM}title") == "Story 2-5"


def test_a_malformed_page_cursor_is_a_400_not_a_crash(newsroom: Newsroom) -> None:
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.poll()

    response = newsroom.client.get("/feeds/news.atom?before=yesterday")

    assert response.status_code == 400
    assert b"not a cursor this service gave out" in response.data


def test_an_unknown_feed_is_404(newsroom: Newsroom) -> None:
    assert newsroom.client.get("/feeds/nope.atom").status_code == 404


def test_an_empty_feed_is_still_valid_atom(newsroom: Newsroom) -> None:
    assert_valid_atom(get(newsroom, "/feeds/news.atom"))


def test_every_atom_document_served_is_valid_atom(newsroom: Newsroom) -> None:
    newsroom.write("bridge", "Harbour bridge closed", "Cracks found.", "More details to follow.")
    newsroom.write("ferries", "Ferries every ten minutes")
    newsroom.poll()
    newsroom.write("bridge", "Harbour bridge reopens", "Cracks found.", "Repairs took a week.")
    newsroom.poll()
    aid = newsroom.store.get_feed_page("news", 1)[0][0].article.id

    for path in ("/feeds/news.atom", "/feeds/news/revisions.atom", f"/articles/{aid}.atom"):
        response = newsroom.client.get(path)
        assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8", path
        assert_valid_atom(response.data)
