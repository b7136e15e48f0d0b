"""Every article page on its own schedule, end to end: stealth edits are
caught although the feed answers 304, `feedsvc poll` looks at everything
now while `feedsvc poll --due` only at what is due, a developing story is
never checked less often than its feed, and the ladder (rarer with age,
then stop; back to the start after a change; the same out of the feed).

A local HTTP server plays a quiet news site: a feed served with an ETag
(304 when echoed) and pages each with their own ETag. The clock is a
FakeClock moved by hand; nothing sleeps.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feedsvc.cli import main
from feedsvc.pool import check_articles, poll_sources
from feedsvc.scheduler import Scheduler
from feedsvc.storage import Store
from feedsvc.update import Updater

PAGES = Path(__file__).parent / "data" / "pages"
QUIET = (PAGES / "quiet" / "v1.html").read_text(encoding="utf-8")  # "£12 million", no marker
DEVELOPING = (PAGES / "newspaper" / "v1.html").read_text(encoding="utf-8")
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


class QuietSite:
    """/feed.xml lists `items` (title, path) and answers 304 to its own
    ETag; each page answers 304 to its own. Every request is logged with
    the (fake) time it arrived and the status it got."""

    def __init__(self, server: HTTPServer, clock: Any) -> None:
        self.server = server
        self.clock = clock
        self.items: list[tuple[str, str]] = []
        self.pages: dict[str, str] = {}
        self.log: list[tuple[str, datetime, int]] = []  # (path, when, status)
        server.expect_request("/feed.xml").respond_with_handler(self.feed)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def publish(self, path: str, html: str) -> None:
        if path not in self.pages:
            self.server.expect_request(path).respond_with_handler(self.page)
        self.pages[path] = html

    def _answer(self, request: Request, body: str, content_type: str) -> Response:
        etag = f'"{abs(hash(body))}"'
        if request.headers.get("If-None-Match") == etag:
            response = Response(status=304, headers={"ETag": etag})
        else:
            response = Response(body, content_type=content_type, headers={"ETag": etag})
        self.log.append((request.path, self.clock(), response.status_code))
        return response

    def feed(self, request: Request) -> Response:
        items = "".join(
            f"<item><title>{title}</title><link>{self.url(path)}</link>"
            f"<guid>{self.url(path)}</guid>"
            "<pubDate>Sun, 01 Mar 2026 07:30:00 +0000</pubDate>"
            "<description>The council approved a footbridge.</description></item>"
            for title, path in self.items
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Millbrook Courier</title><link>{self.url('/')}</link>"
            f"<description>Local news</description>{items}</channel></rss>"
        )
        return self._answer(request, body, "application/rss+xml; charset=utf-8")

    def page(self, request: Request) -> Response:
        return self._answer(request, self.pages[request.path], "text/html; charset=utf-8")

    def requests(self, path: str) -> list[tuple[datetime, int]]:
        return [(when, status) for p, when, status in self.log if p == path]


@pytest.fixture
def site(httpserver: HTTPServer, clock: Any) -> QuietSite:
    return QuietSite(httpserver, clock)


@pytest.fixture
def world(site: QuietSite, make_settings: Any, store_for: Any, clock: Any) -> Any:
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


def texts(store: Store, aid: str) -> list[str]:
    return [v.text for v in store.get_versions(aid, full=True)]


def next_poll(store: Store) -> datetime:
    [source] = store.list_sources()
    return source.next_poll_at


def test_a_stealth_edit_is_caught_at_the_pages_next_check_though_the_feed_answers_304(
    site: QuietSite, world: Any, clock: Any
) -> None:
    site.items = [("Footbridge over the Wend approved", "/footbridge")]
    site.publish("/footbridge", QUIET)
    _, store, updater = world()
    ticker = Scheduler(updater, store, owner="ticker")
    ticker.run_until_idle()
    aid = store.find_article(site.url("/footbridge")).id
    assert len(texts(store, aid)) == 1

    # The site edits the article and nothing else: the feed stays as it was.
    site.publish("/footbridge", QUIET.replace("12 million", "15 million"))
    due = store.get_article(aid).next_check_at
    assert due == clock() + 15 * MINUTE  # young: checked at the feed's pace

    clock.advance(5 * 60)  # not due yet: the scheduler leaves the page alone
    ticker.run_until_idle()
    assert len(site.requests("/footbridge")) == 1

    clock.now = max(due, next_poll(store))  # the page and the feed are both due
    ticker.run_until_idle()
    assert site.requests("/feed.xml")[-1][1] == 304  # the feed says nothing changed
    assert site.requests("/footbridge")[-1] == (clock(), 200)
    first, second = texts(store, aid)
    assert "£12 million" in first
    assert "£15 million" in second and "12 million" not in second
    assert store.get_versions(aid)[-1].change_class == "edit"


# The same page with no date of its own: no published_time, no <time>.
# Its footer still says "© 2026 Millbrook Courier".
UNDATED = QUIET.replace(
    '<meta property="article:published_time" content="2026-03-01T07:30:00+00:00">', ""
).replace(
    '<span class="posted-on">Posted on <time class="entry-date published" '
    'datetime="2026-03-01T07:30:00+00:00">1 March 2026</time></span> ',
    "",
)


def with_modified(html: str, when: str) -> str:
    """The page declaring when it was last modified (Open Graph)."""
    return html.replace(
        "</head>", f'<meta property="article:modified_time" content="{when}">\n</head>'
    )


def first_seen(site: QuietSite, world: Any, html: str) -> tuple[Store, Updater, str]:
    """The footbridge story published as `html` and read once by the
    scheduler: (store, updater, article id)."""
    site.items = [("Footbridge over the Wend approved", "/footbridge")]
    site.publish("/footbridge", html)
    _, store, updater = world()
    Scheduler(updater, store, owner="ticker").run_until_idle()
    return store, updater, store.find_article(site.url("/footbridge")).id


def check_now(store: Store, updater: Updater, clock: Any, aid: str) -> None:
    clock.now = store.get_article(aid).next_check_at
    Scheduler(updater, store, owner="ticker").run_until_idle()


def test_a_number_changed_on_an_undated_page_is_a_stealth_edit_though_its_footer_names_a_year(
    site: QuietSite, world: Any, clock: Any
) -> None:
    assert "&copy; 2026" in UNDATED and "datetime=" not in UNDATED
    store, updater, aid = first_seen(site, world, UNDATED)

    site.publish("/footbridge", UNDATED.replace("12 million", "15 million"))
    check_now(store, updater, clock, aid)
    _, second = store.get_versions(aid)
    # The footer's year is no date of the page's: nothing told readers.
    assert second.change_class == "edit"
    assert second.stealth


def test_an_edit_is_a_stealth_edit_only_while_the_pages_own_date_stays_put(
    site: QuietSite, world: Any, clock: Any
) -> None:
    # The page's own date (09:10) is not the feed's (07:30): each version
    # is compared with the date the page itself gives.
    dated = with_modified(QUIET, "2026-03-01T09:10:00+00:00")
    store, updater, aid = first_seen(site, world, dated)

    site.publish("/footbridge", dated.replace("12 million", "15 million"))
    check_now(store, updater, clock, aid)
    assert store.get_versions(aid)[-1].stealth  # the page's date did not move

    moved = with_modified(QUIET, "2026-03-01T11:45:00+00:00")  # the same day, later
    site.publish("/footbridge", moved.replace("12 million", "18 million"))
    check_now(store, updater, clock, aid)
    versions = store.get_versions(aid)
    assert len(versions) == 3
    assert not versions[-1].stealth  # the page said it was modified


def with_counters(html: str, comments: int, views: str, shares: str) -> str:
    """The page with a template's counters inside the article's own
    container, after its last paragraph."""
    counters = (
        f"<p>Comments ({comments})</p><p>Viewed {views} times</p><p>{shares} shares</p>"
        f"<p>{comments} responses to “Footbridge over the Wend approved”</p>"
    )
    return html.replace("  </div>\n  <footer", f"{counters}\n  </div>\n  <footer", 1)


def test_counters_moving_inside_the_article_are_no_revision_and_an_edit_still_is(
    site: QuietSite, world: Any, clock: Any
) -> None:
    store, updater, aid = first_seen(site, world, with_counters(QUIET, 12, "1,234", "1.2K"))
    assert "Comments" not in texts(store, aid)[0] and "Viewed" not in texts(store, aid)[0]

    site.publish("/footbridge", with_counters(QUIET, 13, "1,301", "1.3K"))
    check_now(store, updater, clock, aid)
    assert site.requests("/footbridge")[-1][1] == 200  # looked at, and nothing new
    assert len(texts(store, aid)) == 1

    edited = QUIET.replace("12 million", "15 million")
    site.publish("/footbridge", with_counters(edited, 14, "1,388", "1.4K"))
    check_now(store, updater, clock, aid)
    assert len(texts(store, aid)) == 2 and "£15 million" in texts(store, aid)[-1]


def test_an_unchanged_feed_reads_no_article_and_an_unchanged_page_source_climbs_its_ladder(
    site: QuietSite, make_settings: Any, store_for: Any, clock: Any
) -> None:
    # One feed and one page configured as a source, both answering 304 on
    # their second poll: the claim tells them apart, so the feed's 304
    # costs no read of articles while the page's counts as a check.
    site.items = [("Footbridge over the Wend approved", "/footbridge")]
    site.publish("/standalone", QUIET)
    settings = make_settings(
        [{"name": "courier", "sources": [site.url("/feed.xml"), site.url("/standalone")]}],
        scheduler={"interval": "15m"},
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    ticker = Scheduler(Updater(settings, store, clock=clock), store, owner="ticker")
    ticker.run_until_idle()
    read = store.get_articles_for_update
    page = site.url("/standalone")
    assert read("courier", [page])[page].unchanged_checks == 0

    looked_up: list[str] = []

    def spy(feed: str, keys: Any) -> Any:
        keys = list(keys)
        looked_up.extend(keys)
        return read(feed, keys)

    store.get_articles_for_update = spy  # type: ignore[method-assign]
    clock.now = max(s.next_poll_at for s in store.list_sources())
    ticker.run_until_idle()
    assert site.requests("/feed.xml")[-1][1] == 304
    assert site.requests("/standalone")[-1][1] == 304
    assert looked_up == [page]
    assert read("courier", [page])[page].unchanged_checks == 1


def test_a_page_source_is_fetched_once_each_time_it_falls_due(
    site: QuietSite, make_settings: Any, store_for: Any, clock: Any
) -> None:
    # The source's next poll is its page's next check: one request then,
    # never a poll and a check of the same page side by side.
    site.publish("/standalone", QUIET)
    settings = make_settings(
        [{"name": "courier", "sources": [site.url("/standalone")]}],
        scheduler={"interval": "15m"},
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    ticker = Scheduler(Updater(settings, store, clock=clock), store, owner="ticker")
    ticker.run_until_idle()
    for _ in range(3):
        clock.now = next_poll(store)
        ticker.run_until_idle()
    polls = site.requests("/standalone")
    assert [status for _, status in polls] == [200, 304, 304, 304]
    assert len({when for when, _ in polls}) == 4  # one request at each due time


def test_a_failing_page_source_backs_off_as_its_page_and_says_when_it_is_next_checked(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any
) -> None:
    answers = iter([Response(QUIET, content_type="text/html; charset=utf-8")])
    httpserver.expect_request("/standalone").respond_with_handler(
        lambda request: next(answers, Response("upstream down", status=503))
    )
    url = httpserver.url_for("/standalone")
    settings = make_settings([{"name": "courier", "sources": [url]}], scheduler={"interval": "15m"})
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    ticker = Scheduler(Updater(settings, store, clock=clock), store, owner="ticker")
    ticker.run_until_idle()
    aid = store.find_article(url).id

    gaps = []
    for _ in range(3):
        clock.now = next_poll(store)
        ticker.run_until_idle()
        page = store.get_article(aid)
        assert page.next_check_at == next_poll(store)  # what `feedsvc history` says
        gaps.append(next_poll(store) - clock())
    assert gaps[0] < gaps[1] < gaps[2]
    assert store.get_article(aid).status == "active"  # failing is not gone
    assert len(httpserver.log) == 4


def test_feedsvc_poll_looks_at_every_page_now_and_poll_due_only_at_what_is_due(
    site: QuietSite, world: Any
) -> None:
    site.items = [("Footbridge over the Wend approved", "/footbridge")]
    site.publish("/footbridge", QUIET)
    settings, store, _ = world()

    def poll(*args: str) -> list[str]:
        result = CliRunner().invoke(main, ["poll", *args, "--config", str(settings.path)])
        assert result.exit_code == 0, result.output
        return str(result.output).strip().splitlines()

    assert poll() == ["polled 1 sources: 1 new articles, 1 new versions, 0 errors"]
    aid = store.find_article(site.url("/footbridge")).id
    site.publish("/footbridge", QUIET.replace("12 million", "15 million"))

    # From cron: nothing is due yet, so nothing is fetched, not even the feed.
    before = len(site.log)
    assert poll("--due") == ["polled 0 sources: 0 new articles, 0 new versions, 0 errors"]
    assert site.log[before:] == []
    assert len(texts(store, aid)) == 1

    # "Look at everything now": the feed (304) and every page in it.
    assert poll() == [
        "polled 1 sources: 0 new articles, 0 new versions, 0 errors",
        "checked 1 article pages: 1 new versions, 0 errors",
    ]
    assert [status for _, status in site.requests("/feed.xml")] == [200, 304]
    assert "£15 million" in texts(store, aid)[-1]


def test_a_developing_story_is_checked_at_least_as_often_as_its_feed(
    site: QuietSite, world: Any, clock: Any
) -> None:
    """developing_interval longer than the feed's interval: the marker never
    makes the page checked less often than the feed is polled."""
    site.items = [("Harwick derailment", "/harwick")]
    site.publish("/harwick", DEVELOPING)  # "This is a developing story"
    _, store, updater = world(interval="15m", developing_interval="45m")
    ticker = Scheduler(updater, store, owner="ticker")
    start = clock()
    ticker.run_until_idle()
    aid = store.find_article(site.url("/harwick")).id
    assert store.get_article(aid).developing

    # Run the scheduler for 8 hours (past the 6h rung, where an ordinary
    # page would go hourly), waking whenever something is due.
    while clock() < start + 8 * HOUR:
        clock.now = min(next_poll(store), store.get_article(aid).next_check_at or clock())
        ticker.run_until_idle()

    feed_polls = site.requests("/feed.xml")
    checks = [when for when, _ in site.requests("/harwick")]
    assert len(checks) >= len(feed_polls) >= 8 * 60 / 17  # 15m plus up to 10% jitter
    gaps = [b - a for a, b in itertools.pairwise(checks)]
    assert max(gaps) <= 15 * MINUTE
    assert len(store.get_versions(aid)) == 1


def ladder_gap(age: timedelta) -> timedelta | None:
    """The default ladder, as the README states it."""
    if age < 6 * HOUR:
        return 15 * MINUTE  # the feed's interval
    if age < 2 * DAY:
        return HOUR
    if age < 7 * DAY:
        return 6 * HOUR
    if age < 30 * DAY:
        return DAY
    return None


def run_checks(
    store: Store, updater: Updater, clock: Any, aids: list[str], until: datetime
) -> dict[str, list[tuple[timedelta, timedelta | None]]]:
    """Check due pages until `until` or until no page has a check left;
    for each article, (age of its last change, gap to its next check) at
    each of its checks."""
    steps: dict[str, list[tuple[timedelta, timedelta | None]]] = {a: [] for a in aids}
    while True:
        due = {a: store.get_article(a).next_check_at for a in aids}
        pending = [when for when in due.values() if when is not None]
        if not pending or min(pending) > until:
            return steps
        clock.now = min(pending)
        check_articles(updater, "w")
        for aid, when in due.items():
            if when == clock():
                row = store.get_article(aid)
                after = row.next_check_at
                steps[aid].append((clock() - row.updated_at, after - clock() if after else None))


def test_the_ladder_checks_rarer_with_age_stops_and_starts_again_after_a_change(
    site: QuietSite, world: Any, clock: Any
) -> None:
    site.items = [("Footbridge over the Wend approved", "/footbridge")]
    site.publish("/footbridge", QUIET)
    _, store, updater = world()
    poll_sources(updater, "w", due_only=False)
    aid = store.find_article(site.url("/footbridge")).id
    t0 = clock()

    steps = run_checks(store, updater, clock, [aid], until=t0 + 10 * DAY)[aid]
    assert steps and all(gap == ladder_gap(age) for age, gap in steps)
    gaps = [gap for _, gap in steps]
    assert gaps == sorted(gaps)  # rarer with age, never more often
    assert set(gaps) == {15 * MINUTE, HOUR, 6 * HOUR, DAY}

    # Day 10: a stealth edit. The daily check finds it, and the page is
    # back at the start of the ladder.
    site.publish("/footbridge", QUIET.replace("12 million", "15 million"))
    steps = run_checks(store, updater, clock, [aid], until=clock() + DAY)[aid]
    assert len(texts(store, aid)) == 2
    assert steps[0] == (timedelta(0), 15 * MINUTE)

    # Then it climbs again, and a month after that change the checks stop,
    # though the article is still in its feed.
    steps = run_checks(store, updater, clock, [aid], until=clock() + 60 * DAY)[aid]
    assert all(gap == ladder_gap(age) for age, gap in steps)
    last_age, last_gap = steps[-1]
    assert last_gap is None and last_age >= 30 * DAY
    assert store.get_article(aid).status == "active"
    clock.now = next_poll(store) + 60 * DAY
    before = len(site.requests("/footbridge"))
    poll_sources(updater, "w")  # the feed answers 304: its pages rest
    check_articles(updater, "w")
    assert len(site.requests("/footbridge")) == before


def test_an_article_that_left_its_feed_follows_the_same_ladder(
    site: QuietSite, world: Any, clock: Any
) -> None:
    site.items = [("Footbridge approved", "/footbridge"), ("Bus lane paused", "/bus-lane")]
    site.publish("/footbridge", QUIET)
    site.publish("/bus-lane", QUIET.replace("footbridge", "bus lane"))
    _, store, updater = world()
    poll_sources(updater, "w", due_only=False)
    stays = store.find_article(site.url("/footbridge")).id
    leaves = store.find_article(site.url("/bus-lane")).id

    site.items = site.items[:1]
    clock.advance(60)
    poll_sources(updater, "w", due_only=False)
    assert store.get_article(leaves).status == "dropped"

    steps = run_checks(store, updater, clock, [stays, leaves], until=clock() + 60 * DAY)
    for aid in (stays, leaves):
        assert all(gap == ladder_gap(age) for age, gap in steps[aid]), aid
        assert steps[aid][-1][1] is None
    # The one that left was checked once more, at once, when it left.
    assert len(steps[leaves]) == len(steps[stays]) + 1
    assert [store.get_article(a).status for a in (stays, leaves)] == ["active", "stopped"]


def test_after_the_upgrade_pages_that_had_no_schedule_of_their_own_are_due(
    site: QuietSite, world: Any, store_for: Any, clock: Any
) -> None:
    """Before migration 0005 an article still in its feed had no checks of
    its own (next_check_at NULL): a stealth edit to it was never looked for.
    Upgrading makes each such page due once; the schedule takes it from there."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import update

    from feedsvc.storage.engine import MIGRATIONS
    from feedsvc.storage.tables import articles

    site.items = [("Footbridge over the Wend approved", "/footbridge")]
    site.publish("/footbridge", QUIET)
    settings, store, updater = world()
    poll_sources(updater, "w", due_only=False)
    aid = store.find_article(site.url("/footbridge")).id

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
        conn.execute(update(articles).values(next_check_at=None))  # as it was

    upgraded = store_for(settings)  # opening a store migrates to the newest schema
    row = upgraded.get_article(aid)
    assert row.next_check_at == row.first_seen_at
    site.publish("/footbridge", QUIET.replace("12 million", "15 million"))
    check_articles(Updater(settings, upgraded, clock=clock), "w")
    assert "£15 million" in texts(upgraded, aid)[-1]
