"""Sharing the sources between workers: leases claimed in the database,
taken over once expired, renewed while a slow poll is alive; and two writers
of the same article never both win (the whole losing poll rolls back)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from werkzeug import Request, Response

from feedsvc.pool import poll_sources
from feedsvc.storage import Store, WriteConflict
from feedsvc.update import Updater


def folder_sources(tmp_path: Path, count: int) -> list[str]:
    paths = []
    for i in range(count):
        folder = tmp_path / f"desk-{i}"
        folder.mkdir()
        (folder / "story.txt").write_text(f"Story {i}\n\nWhat happened at desk {i}.\n")
        paths.append(str(folder))
    return paths


@pytest.fixture
def three_sources(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Any:
    settings = make_settings(
        [{"name": "desks", "sources": folder_sources(tmp_path, 3)}], scheduler={"lease": "1m"}
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    return settings, store


def test_two_workers_claiming_at_once_get_different_sources(three_sources: Any, clock: Any) -> None:
    _, store = three_sources
    until = clock() + timedelta(minutes=1)
    a = store.claim_next_source(clock(), "worker-a", until)
    b = store.claim_next_source(clock(), "worker-b", until)
    c = store.claim_next_source(clock(), "worker-a", until)
    assert a and b and c
    assert len({a.id, b.id, c.id}) == 3
    assert store.claim_next_source(clock(), "worker-b", until) is None


def test_a_crashed_workers_lease_is_taken_over_once_it_expires(
    three_sources: Any, clock: Any
) -> None:
    _, store = three_sources
    held = [store.claim_next_source(clock(), "crashed", clock() + timedelta(minutes=1))]
    held += [store.claim_next_source(clock(), "crashed", clock() + timedelta(minutes=1))]
    held += [store.claim_next_source(clock(), "crashed", clock() + timedelta(minutes=1))]
    assert all(held)

    clock.advance(59)
    assert store.claim_next_source(clock(), "survivor", clock() + timedelta(minutes=1)) is None
    clock.advance(2)
    taken = store.claim_next_source(clock(), "survivor", clock() + timedelta(minutes=1))
    assert taken is not None and taken.lease_owner == "survivor"


def test_a_worker_whose_lease_was_taken_over_writes_nothing(three_sources: Any, clock: Any) -> None:
    settings, store = three_sources
    slow = store.claim_next_source(clock(), "slow", clock() + timedelta(minutes=1))
    assert slow is not None
    clock.advance(120)
    fast = store.claim_source(slow.id, clock(), "fast", clock() + timedelta(minutes=1))
    assert fast is not None

    [outcome] = [Updater(settings, store, clock=clock).poll_source(slow)]
    assert outcome.error and "lease lost" in outcome.error
    assert store.count_articles("desks") == 0
    [row] = [r for r in store.list_sources() if r.id == slow.id]
    assert row.last_polled_at is None


def test_renewed_leases_are_not_taken_over_and_lost_ones_are_not_renewed(
    three_sources: Any, clock: Any
) -> None:
    _, store = three_sources
    mine = store.claim_next_source(clock(), "mine", clock() + timedelta(minutes=1))
    assert mine is not None
    clock.advance(50)
    assert store.renew_leases("mine", [mine.id], clock() + timedelta(minutes=1)) == 1
    clock.advance(50)  # past the first lease, inside the renewed one
    assert store.claim_source(mine.id, clock(), "other", clock() + timedelta(minutes=1)) is None
    assert store.renew_leases("somebody-else", [mine.id], clock() + timedelta(hours=1)) == 0


def test_a_slow_poll_keeps_its_lease_while_it_runs(
    httpserver: HTTPServer, make_settings: Any, store_for: Any
) -> None:
    """Real time: the lease is 1.2 s and the upstream answers after 3 s."""
    started = threading.Event()

    def slow(request: Request) -> Response:
        started.set()
        time.sleep(3)
        return Response(
            b"<rss version='2.0'><channel><title>t</title><item><guid>g</guid>"
            b"<title>Slow news</title><description>Late but whole.</description>"
            b"</item></channel></rss>",
            content_type="application/rss+xml",
        )

    httpserver.expect_request("/slow.xml").respond_with_handler(slow)
    settings = make_settings(
        [{"name": "slow", "sources": [httpserver.url_for("/slow.xml")]}],
        scheduler={"lease": 1.2},
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, Updater(settings, store).clock())
    updater = Updater(settings, store)
    polls: list[Any] = []
    poller = threading.Thread(target=lambda: polls.extend(poll_sources(updater, "patient")))
    poller.start()
    assert started.wait(10)
    time.sleep(2)  # the first lease ran out 0.8 s ago: only renewal keeps it
    now = updater.clock()
    assert store.claim_next_source(now, "eager", now + timedelta(seconds=30)) is None
    poller.join(30)
    assert [(o.new_versions, o.error) for o in polls] == [(1, None)]


def test_pg_claims_skip_rows_another_transaction_is_claiming(
    three_sources: Any, clock: Any
) -> None:
    _, store = three_sources
    if store.dialect != "postgresql":
        pytest.skip("SELECT ... FOR UPDATE SKIP LOCKED is the PostgreSQL path")
    first_id = store.list_candidate_sources(clock())[0]
    with store.engine.connect() as other:
        # A claimer that picked the first row and has not committed yet.
        other.execute(text("SELECT id FROM sources WHERE id = :i FOR UPDATE"), {"i": first_id})
        claimed = store.claim_next_source(clock(), "b", clock() + timedelta(minutes=1))
        other.rollback()
    assert claimed is not None and claimed.id != first_id


# -- two writers of one article ----------------------------------------------


def rss(body: str) -> str:
    return (
        "<rss version='2.0'><channel><title>News</title><item><guid>urn:story:1</guid>"
        f"<title>Flood warning</title><description>{body}</description></item></channel></rss>"
    )


@pytest.fixture
def two_feeds(httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any) -> Any:
    # Two sources of one feed carrying the same article (one guid): the
    # front page feed and a section feed, say.
    bodies = {"/front.xml": rss("Rivers are rising."), "/section.xml": rss("Rivers are rising.")}
    for path in bodies:
        httpserver.expect_request(path).respond_with_handler(
            lambda request: Response(bodies[request.path], content_type="application/rss+xml")
        )
    settings = make_settings(
        [
            {
                "name": "news",
                "sources": [httpserver.url_for("/front.xml"), httpserver.url_for("/section.xml")],
            }
        ]
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    return settings, store, bodies


def decided_but_not_written(updater: Updater, store: Store, clock: Any, path: str) -> Any:
    """Claim `path`'s source and decide its poll, stopping before the write."""
    from feedsvc.models import FeedData
    from feedsvc.parse import parse_feed
    from feedsvc.reading import Found

    [row] = [r for r in store.list_sources() if r.locator.endswith(path)]
    source = store.claim_source(row.id, clock(), "first", clock() + timedelta(minutes=5))
    assert source is not None
    result = updater.fetcher.get(source.url)
    data: FeedData = parse_feed(result.body, result.url)
    intents, _ = updater.intents("news", updater.settings.feed("news"), Found(data, {}), clock())
    return source, intents


def test_a_new_article_stored_by_another_poll_first_rolls_this_poll_back(
    two_feeds: Any, clock: Any
) -> None:
    settings, store, _ = two_feeds
    updater = Updater(settings, store, clock=clock)
    source, intents = decided_but_not_written(updater, store, clock, "/front.xml")

    [section] = [r for r in store.list_sources() if r.locator.endswith("/section.xml")]
    other = store.claim_source(section.id, clock(), "second", clock() + timedelta(minutes=5))
    assert other is not None
    assert updater.poll_source(other).new_versions == 1

    with pytest.raises(WriteConflict):
        store.finish_poll(source, clock(), intents, clock() + timedelta(minutes=15))
    [front] = [r for r in store.list_sources() if r.id == source.id]
    assert front.last_polled_at is None  # its poll state was rolled back too
    article = store.find_article("urn:story:1")
    assert [v.number for v in store.get_versions(article.id)] == [1]


def test_a_conflicting_version_number_rolls_back_and_the_retry_numbers_on(
    two_feeds: Any, clock: Any
) -> None:
    settings, store, bodies = two_feeds
    updater = Updater(settings, store, clock=clock)
    # Both sources are polled at once; if they collide, the loser is polled
    # again in the same round, deciding against the winner's version.
    assert sum(o.new_versions for o in poll_sources(updater, "w")) == 1
    article = store.find_article("urn:story:1")
    assert [v.number for v in store.get_versions(article.id)] == [1]

    clock.advance(3600)
    bodies["/front.xml"] = bodies["/section.xml"] = rss("Rivers are rising. The dam holds.")
    source, intents = decided_but_not_written(updater, store, clock, "/front.xml")
    [section] = [r for r in store.list_sources() if r.locator.endswith("/section.xml")]
    other = store.claim_source(section.id, clock(), "second", clock() + timedelta(minutes=5))
    assert other is not None
    assert updater.poll_source(other).new_versions == 1  # version 2

    # The first poll decided "version 2" too: its write must fail whole.
    with pytest.raises(WriteConflict):
        store.finish_poll(source, clock(), intents, clock() + timedelta(minutes=15))
    assert [v.number for v in store.get_versions(article.id)] == [1, 2]

    # Polled again (poll_source releases a conflicting source), it decides
    # against version 2: the same text, so nothing new and no gap.
    bodies["/front.xml"] = bodies["/section.xml"] = rss(
        "Rivers are rising. The dam holds. Roads are closed."
    )
    store.release_source(source)
    outcomes = poll_sources(updater, "w", due_only=False, feed="news")
    assert sum(o.new_versions for o in outcomes) == 1
    assert [v.number for v in store.get_versions(article.id)] == [1, 2, 3]
