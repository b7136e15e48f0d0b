"""Article pages after the feed: the re-check ladder of an article that
left its feed, 404s and redirects as events, the ticker and `feedsvc poll`
checking due pages, and pages that fail.

The news site (tests/newssite.py) is a local HTTP server whose pages change
between polls. The clock is a FakeClock moved by hand; nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pytest_httpserver import HTTPServer

from feedsvc.update import Updater
from feedsvc.web import create_app
from tests.newssite import NewsSite, next_check, page


def test_an_article_that_left_its_feed_is_checked_at_once_then_climbs_the_ladder(
    site: NewsSite, world: Any, clock: Any
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


def test_a_404_is_an_event_in_the_history_not_a_version(
    site: NewsSite, world: Any, clock: Any
) -> None:
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


def test_a_redirect_to_another_article_is_a_moved_event(
    site: NewsSite, world: Any, clock: Any
) -> None:
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


def test_the_scheduler_checks_due_article_pages(site: NewsSite, world: Any, clock: Any) -> None:
    from feedsvc.scheduler import Scheduler

    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    site.publish("/harwick", page("newspaper/v3.html"))
    clock.now = next_check(store, aid)
    Scheduler(updater, store, owner="scheduler").run_until_idle()
    assert [v.number for v in store.get_versions(aid)] == [1, 2]


def test_an_entry_whose_link_is_not_a_web_page_keeps_the_feeds_text(
    site: NewsSite, world: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.7 ...", content_type="application/pdf"
    )
    site.items = [("Annual report", "/report.pdf")]
    _, store, updater = world()
    assert [(o.new_articles, o.error) for o in updater.poll("w", due_only=False)] == [(1, None)]
    [version] = store.get_versions(store.find_article(site.url("/report.pdf")).id, full=True)
    assert version.text == "A short summary from the feed."


def test_a_page_that_cannot_be_fetched_harms_only_its_own_article(
    site: NewsSite, world: Any
) -> None:
    site.items = [("Broken", "/broken"), ("Eastgate", "/eastgate")]
    site.publish("/broken", "unused")
    site.status["/broken"] = 500
    site.publish("/eastgate", page("ghost/v1.html"))
    _, store, updater = world()
    assert [(o.new_articles, o.error) for o in updater.poll("w", due_only=False)] == [(1, None)]
    assert store.find_article(site.url("/eastgate")).latest_version == 1


def test_feedsvc_poll_also_checks_the_article_pages_that_are_due(
    site: NewsSite, world: Any
) -> None:
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
    site: NewsSite, world: Any, make_settings: Any, clock: Any
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
    site: NewsSite, world: Any, clock: Any
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
