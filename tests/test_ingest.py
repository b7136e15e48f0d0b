"""Ingest that keeps up: one worker's scheduler polls whatever is due as
fast as its slots allow, sleeps until the next due time when nothing is,
and keeps a slow host's work from holding up the other hosts.

The upstream is a threaded werkzeug server per loopback address
(127.0.0.x stands in for other hosts); every request is logged with its
start and end, and that log is what the tests read."""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug import Request, Response
from werkzeug.serving import WSGIRequestHandler, make_server

from feedsvc.scheduler import Scheduler
from feedsvc.update import Updater


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def rss(n: int) -> bytes:
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Desk</title>"
        f"<item><guid>urn:desk:{n}</guid><title>Harbour report {n}</title>"
        f"<description>The harbour master of desk {n} reports calm water, "
        "two ferries running to time and the night crossing restored.</description>"
        "</item></channel></rss>"
    ).encode()


class Host:
    """One upstream host: feeds at /f/N.xml, answering 304 to their ETag;
    with a `gate`, each answer waits until the gate is opened."""

    def __init__(self, address: str, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.lock = threading.Lock()
        self.started: list[tuple[int, float]] = []  # (n, start)
        self.requests: list[tuple[int, float, float]] = []  # answered: (n, start, end)
        self.server = make_server(address, 0, self.app, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://{address}:{self.server.server_port}"

    def url(self, n: int) -> str:
        return f"{self.base}/f/{n}.xml"

    def app(self, environ: Any, start_response: Any) -> Any:
        start = time.monotonic()
        request = Request(environ)
        n = int(re.fullmatch(r"/f/(\d+)\.xml", request.path).group(1))  # type: ignore[union-attr]
        with self.lock:
            self.started.append((n, start))
        if self.gate is not None:
            self.gate.wait(60)
        body = rss(n)
        etag = f'"{hashlib.sha256(body).hexdigest()[:12]}"'
        if request.headers.get("If-None-Match") == etag:
            response = Response(status=304, headers={"ETag": etag})
        else:
            response = Response(body, content_type="application/rss+xml", headers={"ETag": etag})
        with self.lock:
            self.requests.append((n, start, time.monotonic()))
        return response(environ, start_response)

    def polls(self) -> dict[int, list[float]]:
        """Start times of the requests for each feed."""
        out: dict[int, list[float]] = defaultdict(list)
        with self.lock:
            for n, start in self.started:
                out[n].append(start)
        return out

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def hosts() -> Iterator[Callable[..., Host]]:
    made: list[Host] = []

    def make(address: str = "127.0.0.1", gate: threading.Event | None = None) -> Host:
        made.append(Host(address, gate))
        return made[-1]

    yield make
    for host in made:
        host.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def running(store_for: Any) -> Iterator[Callable[..., Scheduler]]:
    """running(settings) starts a worker's scheduler in this process (real
    clock, real HTTP); it is stopped at the end of the test."""
    started: list[tuple[Scheduler, Updater]] = []

    def start(settings: Any) -> Scheduler:
        from feedsvc.update import utcnow

        store = store_for(settings)
        store.sync_sources(settings.feeds, utcnow())
        updater = Updater(settings, store)
        scheduler = Scheduler(updater, store)
        scheduler.start()
        started.append((scheduler, updater))
        return scheduler

    yield start
    for scheduler, updater in started:
        scheduler.stop()
        updater.close()


def test_one_worker_polls_100_due_sources_at_once_then_waits_for_their_next_due_time(
    make_settings: Any, hosts: Callable[..., Host], running: Callable[..., Scheduler]
) -> None:
    # The default tick: a scheduler that polled a batch per tick would
    # take several ticks for 100 sources; this one takes them as they come.
    host = hosts()
    interval = 6.0
    settings = make_settings(
        [{"name": "desks", "sources": [host.url(n) for n in range(100)]}],
        scheduler={"interval": interval},
    )
    running(settings)
    started = time.monotonic()
    wait_until(lambda: len(host.polls()) == 100, 60, "every source to be polled once")
    first_round = time.monotonic() - started
    # (a batch of concurrency * 4 per tick, as before, needed 7 ticks: 30 s)
    tick = settings.scheduler.tick
    assert first_round < 2 * tick, f"100 due sources took {first_round:.1f}s"

    # Then nothing until each source is due again (interval plus up to 10%
    # jitter after its poll); then each is polled again, once.
    wait_until(
        lambda: all(len(t) >= 2 for t in host.polls().values()),
        interval * 1.1 + 30,
        "a second round",
    )
    for n, times in host.polls().items():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(g >= interval - 0.05 for g in gaps), (n, gaps)


def test_a_slow_host_does_not_delay_sources_on_other_hosts(
    make_settings: Any, hosts: Callable[..., Host], running: Callable[..., Scheduler]
) -> None:
    gate = threading.Event()  # the slow host answers nothing until it opens
    slow = hosts("127.0.0.2", gate=gate)
    fast = hosts("127.0.0.3")
    # The slow host's sources come first in the queue (same due time,
    # configured first), and there are more of them than slots.
    sources = [slow.url(n) for n in range(6)] + [fast.url(n) for n in range(30)]
    settings = make_settings(
        [{"name": "wire", "sources": sources}],
        scheduler={"concurrency": 4, "per_host": 2, "interval": "1h"},
    )
    try:
        running(settings)
        wait_until(lambda: len(fast.polls()) == 30, 60, "every source of the fast host")
        # Meanwhile the slow host has had per_host requests, still unanswered.
        assert len(slow.polls()) == 2 and not slow.requests
    finally:
        gate.set()
    wait_until(lambda: len(slow.requests) == 6, 60, "every source of the slow host")
    with slow.lock:
        spans = [(start, end) for _, start, end in slow.requests]
    most = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert most <= 2, f"{most} requests at once to one host"
