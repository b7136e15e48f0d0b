"""Rendering once: a feed is rendered when its data changes, not per request,
and a change committed anywhere (this process, another worker, `feedsvc
poll`) is served from the very next request."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc.pool import poll_sources
from feedsvc.update import Updater
from feedsvc.web.cache import RenderCache, Rendered
from tests.harness import FakeClock, cli_env
from tests.newsroom import Newsroom

FEED = "/feeds/news.atom"


@pytest.fixture
def newsroom(
    make_settings: Any, store_for: Any, tmp_path: Path, clock: FakeClock
) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path, make_settings, store_for, clock, ("news",))
    room.write("bridge", "Harbour bridge closed")
    room.poll()
    yield room
    room.close()


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every feed rendering the app makes, by feed name."""
    import feedsvc.web.feeds as feeds

    calls: list[str] = []
    real = feeds.feed_atom

    def spy(name: str, *args: Any, **kwargs: Any) -> bytes:
        calls.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(feeds, "feed_atom", spy)
    return calls


def test_repeated_requests_are_served_from_one_rendering(
    newsroom: Newsroom, renders: list[str]
) -> None:
    bodies = {newsroom.client.get(FEED).data for _ in range(5)}

    assert len(bodies) == 1
    assert renders == ["news"]


def test_a_version_written_by_another_store_is_served_on_the_next_request(
    newsroom: Newsroom, store_for: Any, renders: list[str]
) -> None:
    newsroom.client.get(FEED)
    other = Updater(newsroom.settings, store_for(newsroom.settings), clock=newsroom.clock)
    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")
    newsroom.clock.advance(60)
    poll_sources(other, "another worker", due_only=False)
    other.close()

    response = newsroom.client.get(FEED)

    assert b"Harbour bridge reopens" in response.data
    assert renders == ["news", "news"]


def test_a_version_written_by_feedsvc_poll_in_another_process_is_served_next(
    newsroom: Newsroom, renders: list[str]
) -> None:
    before = newsroom.client.get(FEED)
    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")

    assert newsroom.settings.path is not None
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll", "--config", str(newsroom.settings.path)],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    response = newsroom.client.get(FEED, headers={"If-None-Match": before.headers["ETag"]})

    assert response.status_code == 200
    assert b"Harbour bridge reopens" in response.data


def test_concurrent_misses_of_one_slot_render_once() -> None:
    cache = RenderCache()
    calls = []

    def render() -> Rendered:
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive and wait
        return Rendered(b"<feed/>", "application/atom+xml", None)

    got: list[Rendered | None] = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get("feed", 7, render))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(calls) == 1
    assert len({id(r) for r in got}) == 1


def test_a_new_version_replaces_the_old_rendering_of_its_slot() -> None:
    cache = RenderCache()
    cache.get("feed", 1, lambda: Rendered(b"one", "text/plain", None))

    second = cache.get("feed", 2, lambda: Rendered(b"two", "text/plain", None))

    assert second is not None and second.body == b"two"
    assert cache.lookup("feed", 1) is None


def test_the_cache_keeps_at_most_its_size_in_slots() -> None:
    cache = RenderCache(size=3)
    for slot in range(5):
        cache.get(slot, 1, lambda: Rendered(b"x", "text/plain", None))

    assert [s for s in range(5) if cache.lookup(s, 1) is not None] == [2, 3, 4]


def test_a_rendering_is_compressed_once_however_many_ask(
    newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feedsvc.web.cache as cache

    codings: list[str] = []
    real = cache._compress

    def spy(body: bytes, coding: str) -> bytes:
        codings.append(coding)
        return real(body, coding)

    monkeypatch.setattr(cache, "_compress", spy)

    for _ in range(3):
        newsroom.client.get(FEED, headers={"Accept-Encoding": "gzip"})
        newsroom.client.get(FEED, headers={"Accept-Encoding": "br"})

    assert sorted(codings) == ["br", "gzip"]


def test_a_failed_render_stores_nothing_and_the_next_request_renders_again() -> None:
    cache = RenderCache()

    def broken() -> Rendered:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cache.get("feed", 1, broken)
    again = cache.get("feed", 1, lambda: Rendered(b"ok", "text/plain", None))

    assert again is not None and again.body == b"ok"
