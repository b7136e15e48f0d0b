"""The updater's conditional requests and page checks, on the fake web
(tests.harness.FakeWeb: the real Fetcher over httpx.MockTransport, no
socket) and a hand-moved clock: what is asked, with which validator, and
what is stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from feedsvc.storage import Store
from feedsvc.update import Updater
from tests.harness import FakeClock, FakeWeb
from tests.newssite import next_check, page

FEED = "http://news.test/feed.xml"
STORY = "http://news.test/2026/harwick-council"


def rss(*items: tuple[str, str]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid></item>"
        for title, link in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harwick Post</title>'
        f"<link>http://news.test/</link><description>News</description>{entries}"
        "</channel></rss>"
    )


@dataclass
class Desk:
    web: FakeWeb
    store: Store
    updater: Updater
    clock: FakeClock

    def poll(self, *, due_only: bool = False) -> None:
        outcomes = self.updater.poll("desk", due_only=due_only)
        assert [o.error for o in outcomes if o.error] == []

    def versions(self) -> list[int]:
        return [v.number for v in self.store.get_versions(self.article())]

    def article(self) -> str:
        found = self.store.find_article(STORY)
        assert found is not None
        return found.id


@pytest.fixture
def desk(make_settings: Any, clock: FakeClock) -> Iterator[Desk]:
    settings = make_settings([{"name": "city", "sources": [FEED], "fetch_articles": True}])
    web = FakeWeb()
    web.publish(FEED, rss(("Council approves bridge budget", STORY)), "application/rss+xml")
    web.publish(STORY, page("newspaper/v1.html"))
    store = Store(settings.service.database)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, web.fetcher(clock), clock=clock)
    try:
        yield Desk(web, store, updater, clock)
    finally:
        updater.close()
        store.close()


def test_an_unchanged_feed_is_asked_with_its_etag_and_stores_nothing(desk: Desk) -> None:
    desk.poll()
    desk.clock.advance(900)
    desk.poll()

    feed_requests = [etag for url, etag in desk.web.requests if url == FEED]
    assert feed_requests[0] is None
    assert feed_requests[1] == desk.web.resources[FEED].etag
    assert desk.versions() == [1]


def test_a_page_edited_under_an_unchanged_feed_is_a_version_at_its_next_check(
    desk: Desk,
) -> None:
    desk.poll()
    due = next_check(desk.store, desk.article())
    assert due is not None and due > desk.clock()
    desk.web.publish(STORY, page("newspaper/v3.html"))  # the feed does not change

    desk.clock.now = due - (due - desk.clock()) / 2
    desk.poll(due_only=True)
    desk.updater.check_articles("desk")
    assert desk.web.fetched(STORY) == 1  # not due yet: not asked
    desk.clock.now = due
    desk.updater.check_articles("desk")

    assert desk.web.fetched(STORY) == 2
    assert desk.versions() == [1, 2]


def test_an_edit_between_the_divs_of_a_blogger_post_is_a_version(desk: Desk) -> None:
    # Blogger's post body: text, <br>s and <div>s in one <div>; the edited
    # line lies between two <div>s ("first quarter" -> "second quarter").
    desk.web.publish(STORY, page("blogger/v1.html"))
    desk.poll()
    desk.web.publish(STORY, page("blogger/v2.html"))
    due = next_check(desk.store, desk.article())
    assert due is not None
    desk.clock.now = due

    desk.updater.check_articles("desk")

    assert desk.versions() == [1, 2]
    latest = desk.store.get_version(desk.article(), 2)
    assert "starting in the second quarter of 2017" in latest.text


def test_a_page_that_answers_304_to_its_check_makes_no_version(desk: Desk) -> None:
    desk.poll()
    due = next_check(desk.store, desk.article())
    assert due is not None
    desk.clock.now = due

    desk.updater.check_articles("desk")

    assert desk.web.requests[-1] == (STORY, desk.web.resources[STORY].etag)
    assert desk.versions() == [1]
    later = next_check(desk.store, desk.article())
    assert later is not None and later > due
