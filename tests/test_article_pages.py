"""Article pages: fetch_articles, developing stories polled fast with backoff,
the extraction guard, and the life of an article after it leaves its feed.

A local HTTP server plays the news site: a feed whose entries link to pages,
and pages that change between polls (tests/data/pages/TEMPLATE/vN.html). The
clock is a FakeClock moved by hand; nothing sleeps.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
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


class Site:
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
def site(httpserver: HTTPServer) -> Site:
    return Site(httpserver)


@pytest.fixture
def world(site: Site, make_settings: Any, store_for: Any, clock: Any) -> Any:
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


def test_done_a_developing_page_becomes_one_clean_entry_with_only_real_revisions(
    site: Site, world: Any, clock: Any
) -> None:
    """The issue's done-criterion: fetch_articles against a page that goes
    from "More details to follow." to the fuller story."""
    site.items = [("Panjshir: Taliban suffer heavy losses", "/2021/09/panjshir")]
    site.publish("/2021/09/panjshir", page("wordpress/v1.html"))
    settings, store, updater = world()

    assert [
        (o.new_articles, o.new_versions, o.error) for o in updater.poll("w", due_only=False)
    ] == [(1, 1, None)]
    aid = store.find_article(site.url("/2021/09/panjshir")).id

    # A boilerplate-only revision (comments, sidebar, nonce, cache-buster).
    site.publish("/2021/09/panjshir", page("wordpress/v2.html"))
    clock.advance(120)
    assert [o.new_versions for o in updater.check_articles("w")] == [0]

    # The story itself: the marker gives way to two paragraphs.
    site.publish("/2021/09/panjshir", page("wordpress/v3.html"))
    clock.advance(240)
    assert [o.new_versions for o in updater.check_articles("w")] == [1]
    clock.advance(900)
    assert [o.new_versions for o in updater.poll("w", due_only=False)] == [0]

    feed = atom(settings, store)
    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == "Taliban suffer heavy losses in Panjshir Valley."  # the page's headline
    body, _, history = entry.content[0].value.partition("Update history")
    assert "Fighting resumed overnight near the village of Khawak" in body
    assert "Today, Taliban forces attempted to enter Panjshir Valley" in body
    for noise in ("Leave a Reply", "Skip to content", "Image Credit", "Share this", "Comments"):
        assert noise not in body
    assert "More details to follow." not in body
    assert history.count("<li>") == 2
    assert "Version 2" in history and "Version 3" not in history
    assert {t.term for t in entry.tags} == {"updated"}
    assert [v.change_class for v in store.get_versions(aid)] == ["initial", "append"]


def test_the_feed_summary_is_not_versioned_when_articles_are_fetched(
    site: Site, world: Any
) -> None:
    site.items = [("Library to close", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    version = store.get_versions(store.find_article(site.url("/eastgate")).id, full=True)[0]
    assert "A short summary from the feed." not in version.text
    assert version.text.startswith("Residents\u2019 four-year campaign to save the Eastgate branch")
    assert store.get_raw(version.raw_id).url == site.url("/eastgate")  # the page is the evidence


def test_an_unchanged_page_is_fetched_conditionally_and_makes_no_version(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Library to close", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/eastgate")).id
    clock.now = next_check(store, aid)
    assert [(o.new_versions, o.not_modified) for o in updater.check_articles("w")] == [(0, True)]
    eastgate = [h for h in site.hits if h[0] == "/eastgate"]
    assert len(eastgate) == 2 and eastgate[1][1] is not None  # If-None-Match sent: 304
    assert len(store.get_versions(aid)) == 1


def test_a_feed_poll_checks_at_once_only_the_pages_of_new_or_changed_entries(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Library to close", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    _, _, updater = world()
    updater.poll("w", due_only=False)
    clock.advance(300)

    # A new entry: its page is fetched; the unchanged entry's page waits.
    site.items.append(("Harwick derailment", "/harwick"))
    site.publish("/harwick", page("newspaper/v4.html"))
    assert [(o.new_articles, o.new_versions) for o in updater.poll("w", due_only=False)] == [(1, 1)]
    assert site.hits_of("/eastgate") == 1

    # The site retitles the entry in its feed: the page is checked at once.
    clock.advance(300)
    site.items[0] = ("Library to close at the end of the year", "/eastgate")
    updater.poll("w", due_only=False)
    assert site.hits_of("/eastgate") == 2
    assert site.hits_of("/harwick") == 1


def test_an_unchanged_feed_costs_one_304_and_no_page_fetches(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Library to close", "/eastgate"), ("Harwick", "/harwick")]
    site.publish("/eastgate", page("ghost/v1.html"))
    site.publish("/harwick", page("newspaper/v4.html"))
    _, _, updater = world()
    updater.poll("w", due_only=False)
    clock.advance(900)
    before = len(site.hits)
    assert [o.not_modified for o in updater.poll("w", due_only=False)] == [True]
    assert site.hits[before:] == [("/feed.xml", site.hits[before][1])]
    assert site.hits[before][1] is not None


def test_boilerplate_only_page_changes_are_not_revisions_on_any_template(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Eastgate", "/eastgate"), ("Harwick", "/harwick"), ("Panjshir", "/panjshir")]
    site.publish("/eastgate", page("ghost/v1.html"))
    site.publish("/harwick", page("newspaper/v1.html"))
    site.publish("/panjshir", page("wordpress/v1.html"))
    _, store, updater = world(developing_interval="15m")
    updater.poll("w", due_only=False)
    site.publish("/eastgate", page("ghost/v2.html"))
    site.publish("/harwick", page("newspaper/v2.html"))
    site.publish("/panjshir", page("wordpress/v2.html"))
    clock.advance(900)
    updater.poll("w", due_only=False)
    updater.check_articles("w")
    counts = {
        path: len(store.get_versions(store.find_article(site.url(path)).id))
        for path in ("/eastgate", "/harwick", "/panjshir")
    }
    assert counts == {"/eastgate": 1, "/harwick": 1, "/panjshir": 1}


def test_a_developing_story_is_polled_fast_backs_off_and_returns_to_the_interval(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Harwick train derailment", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))  # "This is a developing story"
    settings, store, updater = world()
    t0 = clock()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    assert store.get_article(aid).developing
    assert next_check(store, aid) == t0 + timedelta(minutes=2)

    # Unchanged checks double the gap: 2m, 4m, 8m, then the 15m interval caps it.
    site.publish("/harwick", page("newspaper/v2.html"))  # boilerplate only
    gaps = []
    for _ in range(4):
        clock.now = next_check(store, aid)
        assert [o.new_versions for o in updater.check_articles("w")] == [0]
        gaps.append((next_check(store, aid) - clock()).total_seconds())
    assert gaps == [240, 480, 900, 900]

    # A real change while still developing: fast again.
    site.publish("/harwick", page("newspaper/v3.html"))  # 12 dead -> 15 dead
    clock.now = next_check(store, aid)
    assert [o.new_versions for o in updater.check_articles("w")] == [1]
    assert next_check(store, aid) == clock() + timedelta(minutes=2)
    assert "developing" in {t.term for t in atom(settings, store).entries[0].tags}

    # The marker goes: back to the bottom of the ladder, the feed's pace.
    site.publish("/harwick", page("newspaper/v4.html"))
    clock.now = next_check(store, aid)
    assert [o.new_versions for o in updater.check_articles("w")] == [1]
    assert next_check(store, aid) == clock() + timedelta(minutes=15)
    assert not store.get_article(aid).developing
    # v3's 12 -> 15 dead came with no notice and an unmoved page date: stealth.
    assert {t.term for t in atom(settings, store).entries[0].tags} == {"updated", "stealth"}
    assert updater.check_articles("w") == []


def test_a_developing_story_returns_to_the_ladder_after_the_window(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    _, store, updater = world(developing_window="1h")
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    t0 = store.get_article(aid).updated_at
    checks = []  # minutes after the change
    while (when := next_check(store, aid)) is not None and when - t0 < timedelta(hours=8):
        clock.now = when
        updater.check_articles("w")
        checks.append((when - t0).total_seconds() / 60)
    # 2m, then gaps of 4m, 8m, 15m (capped by the feed's interval) ...
    assert checks[:4] == [2, 6, 14, 29]
    # ... and once the window has passed, the ladder alone: the feed's
    # interval to 6h after the change, then hourly.
    gaps = [b - a for a, b in pairwise(checks)]
    assert set(gaps[3:]) == {15, 60}
    assert all(b - a == 60 for a, b in pairwise(checks) if a >= 6 * 60)
    assert store.get_article(aid).developing  # still marked; just not checked fast


def test_a_paywall_fragment_is_confirmed_then_kept_out_of_the_feed(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    settings, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id

    site.publish("/harwick", page("newspaper/paywall.html"))
    clock.now = next_check(store, aid)
    before = site.hits_of("/harwick")
    updater.check_articles("w")
    assert site.hits_of("/harwick") - before == 2  # confirmed by a second fetch
    assert [(v.number, v.suspect) for v in store.get_versions(aid)] == [(1, False), (2, True)]
    entry = atom(settings, store).entries[0]
    assert "At least 12 people have died" in entry.content[0].value
    assert "Version 2" not in entry.content[0].value

    # The article comes back, with a real change: published again.
    site.publish("/harwick", page("newspaper/v3.html"))
    clock.now = next_check(store, aid)
    updater.check_articles("w")
    assert [(v.number, v.suspect) for v in store.get_versions(aid)][-1] == (3, False)
    content = atom(settings, store).entries[0].content[0].value
    assert "At least 15 people have died" in content


def test_a_fragment_that_the_second_fetch_contradicts_is_no_revision(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    site.once["/harwick"] = [page("newspaper/paywall.html")]  # a one-off error template
    clock.now = next_check(store, aid)
    assert [o.new_versions for o in updater.check_articles("w")] == [0]
    assert [v.number for v in store.get_versions(aid)] == [1]


def test_a_small_real_edit_passes_the_guard(site: Site, world: Any, clock: Any) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    site.publish("/harwick", page("newspaper/v3.html"))
    clock.now = next_check(store, aid)
    before = site.hits_of("/harwick")
    assert [o.new_versions for o in updater.check_articles("w")] == [1]
    assert site.hits_of("/harwick") - before == 1  # no second fetch needed
    v2 = store.get_versions(aid)[-1]
    assert (v2.suspect, v2.words_added, v2.words_removed) == (False, 1, 1)


def test_an_article_that_left_its_feed_is_checked_at_once_then_climbs_the_ladder(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Eastgate", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    # A ladder of one's own: the feed's interval for 2h, every 6h to 2 days.
    _, store, updater = world(recheck=[["2h", "interval"], ["2d", "6h"]])
    t0 = clock()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/eastgate")).id
    assert next_check(store, aid) == t0 + timedelta(minutes=15)  # in its feed: the ladder

    site.items = []  # it drops out of the feed
    clock.advance(300)
    updater.poll("w", due_only=False)
    assert store.get_article(aid).status == "dropped"
    assert next_check(store, aid) == clock()  # leaving the feed is news: checked now

    checks = []  # (age of the last change at a check, gap to the next check)
    while (when := next_check(store, aid)) is not None:
        clock.now = when
        updater.check_articles("w")
        after = next_check(store, aid)
        checks.append((clock() - t0, after - clock() if after else None))

    hours = timedelta(hours=1)
    for age, gap in checks[:-1]:
        assert gap == (timedelta(minutes=15) if age < 2 * hours else 6 * hours), age
    last_age, last_gap = checks[-1]
    assert last_gap is None and last_age >= 48 * hours
    assert store.get_article(aid).status == "stopped"
    assert [v.number for v in store.get_versions(aid)] == [1]


def test_a_404_is_an_event_in_the_history_not_a_version(site: Site, world: Any, clock: Any) -> None:
    site.items = [("Eastgate", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/eastgate")).id
    site.items = []
    clock.advance(900)
    updater.poll("w", due_only=False)
    site.status["/eastgate"] = 404
    updater.check_articles("w")
    assert [v.number for v in store.get_versions(aid)] == [1]
    assert [kind for _, kind, _ in store.list_events(aid)] == ["gone"]
    assert store.get_article(aid).status == "gone"
    assert next_check(store, aid) is None


def test_a_redirect_to_another_article_is_a_moved_event(site: Site, world: Any, clock: Any) -> None:
    site.items = [("Harwick", "/harwick"), ("Harwick latest", "/harwick-latest")]
    site.publish("/harwick", page("newspaper/v1.html"))
    site.publish("/harwick-latest", page("newspaper/v4.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    site.redirects["/harwick"] = "/harwick-latest"
    clock.now = next_check(store, aid)
    updater.check_articles("w")
    events = store.list_events(aid)
    assert [kind for _, kind, _ in events] == ["moved"]
    assert site.url("/harwick-latest") in (events[0][2] or "")
    assert store.get_article(aid).status == "moved"
    assert len(store.get_versions(aid)) == 1


def test_the_scheduler_tick_checks_due_article_pages(site: Site, world: Any, clock: Any) -> None:
    from feedsvc.scheduler import Ticker

    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    site.publish("/harwick", page("newspaper/v3.html"))
    clock.now = next_check(store, aid)
    Ticker(updater, owner="ticker").tick()
    assert [v.number for v in store.get_versions(aid)] == [1, 2]


def test_an_entry_whose_link_is_not_a_web_page_keeps_the_feeds_text(
    site: Site, world: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.7 ...", content_type="application/pdf"
    )
    site.items = [("Annual report", "/report.pdf")]
    _, store, updater = world()
    assert [(o.new_articles, o.error) for o in updater.poll("w", due_only=False)] == [(1, None)]
    [version] = store.get_versions(store.find_article(site.url("/report.pdf")).id, full=True)
    assert version.text == "A short summary from the feed."


def test_a_page_that_cannot_be_fetched_harms_only_its_own_article(site: Site, world: Any) -> None:
    site.items = [("Broken", "/broken"), ("Eastgate", "/eastgate")]
    site.publish("/broken", "unused")
    site.status["/broken"] = 500
    site.publish("/eastgate", page("ghost/v1.html"))
    _, store, updater = world()
    assert [(o.new_articles, o.error) for o in updater.poll("w", due_only=False)] == [(1, None)]
    assert store.find_article(site.url("/eastgate")).latest_version == 1


def test_feedsvc_poll_also_checks_the_article_pages_that_are_due(site: Site, world: Any) -> None:
    from click.testing import CliRunner

    from feedsvc.cli import main

    site.items = [("Eastgate", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    settings, store, _ = world()

    def poll() -> str:
        result = CliRunner().invoke(main, ["poll", "--config", str(settings.path)])
        assert result.exit_code == 0, result.output
        return str(result.output)

    assert poll().strip() == "polled 1 sources: 1 new articles, 1 new versions, 0 errors"
    site.items = []  # it leaves the feed: due for a re-check at once
    assert poll().strip().splitlines() == [
        "polled 1 sources: 0 new articles, 0 new versions, 0 errors",
        "checked 1 article pages: 0 new versions, 0 errors",
    ]
    assert store.find_article(site.url("/eastgate")).next_check_at is not None


def test_turning_fetch_articles_off_stops_following_the_pages(
    site: Site, world: Any, make_settings: Any, clock: Any
) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))  # developing: checked on its own
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    off = make_settings(
        [{"name": "courier", "sources": [site.url("/feed.xml")], "fetch_articles": False}]
    )
    clock.now = next_check(store, aid)
    before = site.hits_of("/harwick")
    assert Updater(off, store, clock=clock).check_articles("w")[0].error is None
    assert site.hits_of("/harwick") == before
    assert next_check(store, aid) is None


def test_a_page_whose_checks_keep_failing_is_on_healthz_and_backs_off(
    site: Site, world: Any, clock: Any
) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    settings, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    site.status["/harwick"] = 503
    gaps = []
    for _ in range(3):
        clock.now = next_check(store, aid)
        updater.check_articles("w")
        gaps.append((next_check(store, aid) - clock()).total_seconds())
    assert gaps[0] < gaps[1] < gaps[2]  # exponential backoff, not the 2m of a developing story
    health = create_app(settings, store).test_client().get("/healthz").get_json()
    [failing] = health["pages_failing"]
    assert (failing["article"], failing["failures"]) == (aid, 3)
    assert "503" in failing["last_error"]
    assert health["status"] == "ok"
