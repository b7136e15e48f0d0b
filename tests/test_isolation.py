"""Parsing and extraction run in child processes: a crash, a hang or a
runaway document costs that document only."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc import isolation
from feedsvc.errors import ParseError
from feedsvc.extract import read_article
from feedsvc.parse import read_feed

DATA = Path(__file__).parent / "data"
GOOD_RSS = (DATA / "fetch" / "good.rss").read_bytes()
# A long article page: trafilatura takes seconds over it (about 1 s per
# 100 KB on a quiet machine; 5 MB here, so the 1 s limit below holds on a
# fast one too).
SLOW_PAGE = (
    "<html><head><title>Long read</title></head><body><article>"
    + "".join(
        f"<p>Paragraph {i} of the long story about the harbour bridge and its cables.</p>"
        for i in range(60000)
    )
    + "</article></body></html>"
)


@pytest.fixture
def pool() -> Iterator[isolation.Pool]:
    p = isolation.Pool(isolation.Limits(workers=1, timeout=30))
    yield p
    p.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"


def test_a_feed_parsed_in_a_child_is_what_this_process_would_read(
    pool: isolation.Pool,
) -> None:
    url = "http://127.0.0.1/good.rss"
    assert pool.run("feedsvc.parse:read_feed", url, GOOD_RSS, url) == read_feed(GOOD_RSS, url)
    [pid] = pool.children()
    assert pid != os.getpid()


def test_the_childs_own_errors_come_back_as_they_were_raised(pool: isolation.Pool) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa">]><rss>&a;</rss>'
    with pytest.raises(ParseError, match="declares XML entities"):
        pool.run("feedsvc.parse:read_feed", "http://127.0.0.1/bomb", bomb, "http://127.0.0.1/bomb")
    # and the child is still the one serving
    assert len(pool.children()) == 1


def test_a_child_that_crashes_costs_its_document_and_the_next_one_parses(
    pool: isolation.Pool,
) -> None:
    pool.run("feedsvc.parse:read_feed", "warm-up", GOOD_RSS, "http://127.0.0.1/a")
    [pid] = pool.children()
    # A native crash in the middle of a document, as libxml2's double free
    # was: the child dies of SIGSEGV while it extracts the long page.
    threading.Timer(1.0, os.kill, (pid, signal.SIGSEGV)).start()
    with pytest.raises(
        ParseError, match=r"http://127.0.0.1/long: the parser process died.*SIGSEGV"
    ):
        pool.run(
            "feedsvc.extract:read_article",
            "http://127.0.0.1/long",
            SLOW_PAGE,
            "http://127.0.0.1/long",
        )
    assert not _alive(pid)
    url = "http://127.0.0.1/good.rss"
    assert pool.run("feedsvc.parse:read_feed", url, GOOD_RSS, url) == read_feed(GOOD_RSS, url)
    assert pool.children() != [pid]


def test_a_document_past_the_time_limit_is_stopped_and_its_child_replaced() -> None:
    pool = isolation.Pool(isolation.Limits(workers=1, timeout=1.0))
    try:
        pool.run("feedsvc.parse:read_feed", "warm-up", GOOD_RSS, "http://127.0.0.1/a")
        [pid] = pool.children()
        started = time.monotonic()
        with pytest.raises(ParseError, match="took longer than 1s; stopped"):
            pool.run(
                "feedsvc.extract:read_article",
                "http://127.0.0.1/long",
                SLOW_PAGE,
                "http://127.0.0.1/long",
            )
        assert time.monotonic() - started < 10
        assert not _alive(pid)
        url = "http://127.0.0.1/good.rss"
        assert pool.run("feedsvc.parse:read_feed", url, GOOD_RSS, url).title
    finally:
        pool.close()


def test_a_document_past_the_memory_limit_fails_alone() -> None:
    pool = isolation.Pool(isolation.Limits(workers=1, timeout=120, memory=40 * 1024 * 1024))
    try:
        url = "http://127.0.0.1/good.rss"
        assert pool.run("feedsvc.parse:read_feed", url, GOOD_RSS, url).title
        with pytest.raises(ParseError, match=r"http://127.0.0.1/long: .*(memory|died)"):
            pool.run(
                "feedsvc.extract:read_article",
                "http://127.0.0.1/long",
                SLOW_PAGE * 3,
                "http://127.0.0.1/long",
            )
        assert pool.run("feedsvc.parse:read_feed", url, GOOD_RSS, url).title
    finally:
        pool.close()


def test_a_pool_replaced_by_new_limits_finishes_its_documents_and_keeps_no_child() -> None:
    pool = isolation.Pool(isolation.Limits(workers=1, timeout=60))
    url = "http://127.0.0.1/story"
    page = SLOW_PAGE[: len(SLOW_PAGE) // 12] + "</article></body></html>"
    got: list[object] = []
    try:
        pool.run("feedsvc.parse:read_feed", "warm-up", GOOD_RSS, url)
        [pid] = pool.children()
        reading = threading.Thread(
            target=lambda: got.append(pool.run("feedsvc.extract:read_article", url, page, url))
        )
        reading.start()
        time.sleep(0.3)  # the document is in the child

        pool.retire()
        reading.join(60)

        [article] = got
        assert "Paragraph 4000 of the long story" in str(article)
        assert pool.children() == []
        assert not _alive(pid)
    finally:
        pool.close()


def test_only_readers_cross_the_pipe(pool: isolation.Pool) -> None:
    with pytest.raises(ValueError, match="not a parsing task"):
        pool.run("os:system", "x", "true")


def test_the_children_stop_with_the_pool() -> None:
    pool = isolation.Pool(isolation.Limits(workers=2))
    url = "http://127.0.0.1/good.rss"
    pool.run("feedsvc.parse:read_feed", url, GOOD_RSS, url)
    [pid] = pool.children()
    pool.close()
    assert not _alive(pid)
    with pytest.raises(ParseError, match="closed"):
        pool.run("feedsvc.parse:read_feed", url, GOOD_RSS, url)


def test_several_threads_share_a_bounded_number_of_children() -> None:
    pool = isolation.Pool(isolation.Limits(workers=2))
    seen: set[int] = set()
    results: list[object] = []

    def parse() -> None:
        for i in range(5):
            url = f"http://127.0.0.1/{i}.rss"
            results.append(pool.run("feedsvc.parse:read_feed", url, GOOD_RSS, url))
            seen.update(pool.children())

    try:
        threads = [threading.Thread(target=parse) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 30
        assert len(seen) <= 2
    finally:
        pool.close()


def test_an_article_extracted_in_a_child_is_what_this_process_would_extract(
    pool: isolation.Pool,
) -> None:
    page = (DATA / "fetch" / "latin1-article.html").read_bytes().decode("latin-1")
    url = "http://127.0.0.1/article"
    assert pool.run("feedsvc.extract:read_article", url, page, url) == read_article(page, url)
