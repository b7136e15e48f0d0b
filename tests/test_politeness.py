"""How a poll reacts to what an upstream does, and that one bad source never
stops the others: every scenario runs a feed with a misbehaving source and a
good one, polled in the same run.

Times are checked against the FakeClock, never by sleeping. The upstreams
are local: pytest-httpserver, and raw sockets where a server must misbehave
below HTTP (hang, drip).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.serving import make_server

from feedsvc.config import Settings
from feedsvc.models import PollOutcome, SourceRow
from feedsvc.pool import poll_sources
from feedsvc.schedule import next_poll
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

DATA = Path(__file__).parent / "data" / "fetch"
GOOD_FEED = (DATA / "good.rss").read_bytes()
GOOD_TITLE = "Night ferry returns to the harbour timetable"
INTERVAL = 900.0  # the "15m" make_settings configures


def rss(guid: str, title: str, text: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Flood desk</title><link>https://floods.example/</link>"
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<link>https://floods.example/{guid}</link>"
        f"<description>&lt;p&gt;{text}&lt;/p&gt;</description></item>"
        "</channel></rss>"
    ).encode()


FLOOD = rss("flood-1", "River levels rising", "The river rose a metre overnight at the weir.")


@dataclass
class News:
    """A feed `news` with a misbehaving source and a good one."""

    settings: Settings
    store: Store
    updater: Updater
    clock: Any
    bad: str
    good: str

    def poll(self, **kwargs: Any) -> dict[str, PollOutcome]:
        return {o.locator: o for o in poll_sources(self.updater, "test-worker", **kwargs)}

    def source(self, locator: str) -> SourceRow:
        [row] = [r for r in self.store.list_sources() if r.locator == locator]
        return row

    def delay(self, locator: str) -> float:
        """Seconds from now until the source's next poll."""
        return (self.source(locator).next_poll_at - self.clock()).total_seconds()

    def titles(self) -> list[str]:
        return sorted(e.latest.title for e in self.store.list_feed_entries("news", 50))

    def add_source(self, url: str) -> None:
        """Add a source to the feed, as an edited config would."""
        feed = self.settings.feeds[0]
        feed = replace(feed, sources=(*feed.sources, url))
        self.settings = self.updater.settings = replace(self.settings, feeds=(feed,))
        self.store.sync_sources(self.settings.feeds, self.clock())

    def assert_good_source_polled(self, outcomes: dict[str, PollOutcome]) -> None:
        good = outcomes[self.good]
        assert good.error is None
        assert good.new_versions == 1
        assert GOOD_TITLE in self.titles()


@pytest.fixture
def news(httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any) -> Iterator[Any]:
    """news(bad_url, fetch={...}, scheduler={...}) -> News."""
    httpserver.expect_request("/good.rss").respond_with_data(
        GOOD_FEED, content_type="application/rss+xml"
    )
    updaters: list[Updater] = []

    def make(bad: str, **sections: Any) -> News:
        # The same server under another host name: a host that asks for a
        # pause holds back only its own sources.
        good = httpserver.url_for("/good.rss").replace("localhost", "127.0.0.1")
        settings = make_settings([{"name": "news", "sources": [bad, good]}], **sections)
        store = store_for(settings)
        store.sync_sources(settings.feeds, clock())
        updater = Updater(settings, store, clock=clock)
        updaters.append(updater)
        return News(settings, store, updater, clock, bad, good)

    yield make
    for updater in updaters:
        updater.close()


def hits(httpserver: HTTPServer, path: str) -> list[Request]:
    return [req for req, _ in httpserver.log if req.path == path]


# -- conditional GET -----------------------------------------------------------


def test_not_modified_keeps_the_validators_and_makes_no_version(
    httpserver: HTTPServer, news: Any
) -> None:
    etag = 'W/"flood-r1"'
    last_modified = "Sun, 01 Mar 2026 08:55:00 GMT"

    def upstream(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304)  # no validators repeated, as many servers do
        headers = {"ETag": etag, "Last-Modified": last_modified}
        return Response(FLOOD, content_type="application/rss+xml", headers=headers)

    httpserver.expect_request("/flood.rss").respond_with_handler(upstream)
    n = news(httpserver.url_for("/flood.rss"))

    first = n.poll()
    n.assert_good_source_polled(first)
    assert first[n.bad].new_versions == 1
    n.clock.now = n.source(n.bad).next_poll_at
    second = n.poll()

    assert second[n.bad].not_modified
    assert second[n.bad].error is None
    row = n.source(n.bad)
    assert (row.etag, row.last_modified) == (etag, last_modified)
    assert row.failures == 0
    assert INTERVAL <= n.delay(n.bad) < INTERVAL * 1.1
    assert n.titles() == [GOOD_TITLE, "River levels rising"]
    conditional = hits(httpserver, "/flood.rss")[1]
    assert conditional.headers["If-None-Match"] == etag
    assert conditional.headers["If-Modified-Since"] == last_modified
    agent = conditional.headers["User-Agent"]
    assert agent.startswith("feedsvc/") and "http://feeds.test" in agent


# -- slowing down ----------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_sets_the_next_poll(
    httpserver: HTTPServer, news: Any, status: int
) -> None:
    httpserver.expect_request("/busy.rss").respond_with_data(
        "Too busy", status=status, headers={"Retry-After": "3600"}
    )
    n = news(httpserver.url_for("/busy.rss"))

    outcomes = n.poll()

    n.assert_good_source_polled(outcomes)
    assert f"HTTP {status}, Retry-After 3600s" in (outcomes[n.bad].error or "")
    assert n.delay(n.bad) == 3600
    assert n.source(n.bad).failures == 1


def test_retry_after_http_date_sets_the_next_poll(
    httpserver: HTTPServer, news: Any, clock: Any
) -> None:
    back = format_datetime(clock() + timedelta(hours=2), usegmt=True)
    httpserver.expect_request("/busy.rss").respond_with_data(
        "Maintenance", status=503, headers={"Retry-After": back}
    )
    n = news(httpserver.url_for("/busy.rss"))

    n.assert_good_source_polled(n.poll())
    assert n.delay(n.bad) == 7200


def test_retry_after_is_honoured_only_up_to_max_backoff(httpserver: HTTPServer, news: Any) -> None:
    httpserver.expect_request("/busy.rss").respond_with_data(
        "", status=429, headers={"Retry-After": str(30 * 86400)}
    )
    n = news(httpserver.url_for("/busy.rss"), scheduler={"max_backoff": "6h"})

    n.assert_good_source_polled(n.poll())
    assert n.delay(n.bad) == 6 * 3600


def test_retry_after_holds_back_the_other_sources_on_that_host(
    httpserver: HTTPServer, news: Any, clock: Any
) -> None:
    asked = []

    def busy(request: Request) -> Response:
        asked.append(request)
        if len(asked) == 1:
            return Response("Overloaded", status=503, headers={"Retry-After": "3600"})
        return Response(rss("flood-2", "Dam holds", "The dam held."), content_type="text/xml")

    httpserver.expect_request("/busy.rss").respond_with_handler(busy)
    httpserver.expect_request("/sibling.rss").respond_with_data(
        FLOOD, content_type="application/rss+xml"
    )
    n = news(httpserver.url_for("/busy.rss"))
    n.assert_good_source_polled(n.poll())
    busy_at = clock()

    clock.advance(600)
    sibling = httpserver.url_for("/sibling.rss")  # a source on the busy host, new and due
    n.add_source(sibling)
    outcomes = n.poll()

    assert list(outcomes) == [sibling]
    assert "not requested" in (outcomes[sibling].error or "")
    assert hits(httpserver, "/sibling.rss") == []
    assert n.source(sibling).next_poll_at == busy_at + timedelta(hours=1)

    clock.now = busy_at + timedelta(hours=1)
    outcomes = n.poll()
    assert outcomes[n.bad].new_versions == 1  # over its overload
    assert outcomes[sibling].new_versions == 1


def test_backoff_grows_with_each_failure_and_resets_on_success(
    httpserver: HTTPServer, news: Any
) -> None:
    status = {"code": 500}

    def upstream(request: Request) -> Response:
        if status["code"] != 200:
            return Response("Internal Server Error", status=status["code"])
        return Response(FLOOD, content_type="application/rss+xml")

    httpserver.expect_request("/flaky.rss").respond_with_handler(upstream)
    n = news(httpserver.url_for("/flaky.rss"), scheduler={"max_backoff": "30m"})

    # 1, 2, 4, 8, 16 minutes, then max_backoff; each plus up to 10% jitter.
    expected = [60, 120, 240, 480, 960, 1800, 1800]
    for failures, base in enumerate(expected, start=1):
        outcomes = n.poll()
        if failures == 1:
            n.assert_good_source_polled(outcomes)
        assert outcomes[n.bad].error is not None
        assert outcomes[n.bad].error.endswith("HTTP 500")
        row = n.source(n.bad)
        assert row.failures == failures
        assert base <= n.delay(n.bad) < base * 1.1
        n.clock.now = row.next_poll_at

    status["code"] = 200
    outcomes = n.poll()
    assert outcomes[n.bad].error is None
    assert outcomes[n.bad].new_versions == 1
    row = n.source(n.bad)
    assert (row.failures, row.last_error) == (0, None)
    assert INTERVAL <= n.delay(n.bad) < INTERVAL * 1.1


def test_jitter_spreads_sources_that_fail_together(httpserver: HTTPServer, news: Any) -> None:
    httpserver.expect_request("/down.rss").respond_with_data("", status=502)
    n = news(httpserver.url_for("/down.rss"))
    n.poll()
    # The same first failure, at the same moment, for two locators: the
    # delays differ, so the retries do not arrive in step.
    other = n.updater.settings.feeds[0].sources[1]
    mine = next_poll(n.clock(), INTERVAL, key=n.bad, failures=1)
    theirs = next_poll(n.clock(), INTERVAL, key=other, failures=1)
    assert mine != theirs
    assert n.source(n.bad).next_poll_at == mine


# -- moves and ends ----------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_is_remembered(httpserver: HTTPServer, news: Any, status: int) -> None:
    httpserver.expect_request("/old.rss").respond_with_data(
        "", status=status, headers={"Location": "/new.rss"}
    )
    httpserver.expect_request("/new.rss").respond_with_data(
        FLOOD, content_type="application/rss+xml"
    )
    n = news(httpserver.url_for("/old.rss"))

    n.assert_good_source_polled(n.poll())
    row = n.source(n.bad)
    assert row.url == httpserver.url_for("/new.rss")
    assert row.locator == httpserver.url_for("/old.rss")  # the config still says so

    n.clock.now = row.next_poll_at
    assert n.poll()[n.bad].error is None
    assert len(hits(httpserver, "/old.rss")) == 1
    assert len(hits(httpserver, "/new.rss")) == 2


@pytest.mark.parametrize("status", [302, 307])
def test_temporary_redirect_is_not_remembered(
    httpserver: HTTPServer, news: Any, status: int
) -> None:
    httpserver.expect_request("/feed.rss").respond_with_data(
        "", status=status, headers={"Location": "/today.rss"}
    )
    httpserver.expect_request("/today.rss").respond_with_data(
        FLOOD, content_type="application/rss+xml"
    )
    n = news(httpserver.url_for("/feed.rss"))

    n.assert_good_source_polled(n.poll())
    assert n.source(n.bad).url == httpserver.url_for("/feed.rss")
    n.clock.now = n.source(n.bad).next_poll_at
    n.poll()
    assert len(hits(httpserver, "/feed.rss")) == 2


def test_gone_source_is_never_polled_again_and_shows_on_healthz(
    httpserver: HTTPServer, news: Any
) -> None:
    httpserver.expect_request("/gone.rss").respond_with_data("", status=410)
    n = news(httpserver.url_for("/gone.rss"))

    outcomes = n.poll()
    n.assert_good_source_polled(outcomes)
    assert "410 Gone" in (outcomes[n.bad].error or "")

    n.clock.advance(30 * 86400)
    assert n.bad not in n.poll()
    assert n.bad not in n.poll(due_only=False)
    assert len(hits(httpserver, "/gone.rss")) == 1

    health = create_app(n.settings, n.store).test_client().get("/healthz").get_json()
    [entry] = health["failing"]
    assert entry["source"] == n.bad
    assert entry["gone"] is True
    assert entry["next_poll_at"] is None
    assert "410 Gone" in entry["last_error"]


def test_redirect_loop_is_an_error_of_its_source(httpserver: HTTPServer, news: Any) -> None:
    httpserver.expect_request("/a.rss").respond_with_data(
        "", status=302, headers={"Location": "/b.rss"}
    )
    httpserver.expect_request("/b.rss").respond_with_data(
        "", status=302, headers={"Location": "/a.rss"}
    )
    n = news(httpserver.url_for("/a.rss"))

    outcomes = n.poll()

    n.assert_good_source_polled(outcomes)
    assert "redirect loop" in (outcomes[n.bad].error or "")
    assert n.source(n.bad).failures == 1


# -- limits ----------------------------------------------------------------------


@pytest.fixture
def hung_server() -> Iterator[str]:
    """Accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    listener.settimeout(0.05)  # so that the thread sees `stop` soon

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed.rss"
    stop.set()
    listener.close()
    for conn in held:
        conn.close()
    thread.join(5)


def test_hung_server_times_out(hung_server: str, news: Any) -> None:
    n = news(hung_server, fetch={"timeout": 0.5})

    outcomes = n.poll()

    n.assert_good_source_polled(outcomes)
    assert outcomes[n.bad].error == f"{hung_server}: timed out after 0.5s"
    assert n.source(n.bad).failures == 1
    assert 60 <= n.delay(n.bad) < 66


def test_endless_body_is_cut_at_the_cap(httpserver: HTTPServer, news: Any) -> None:
    def endless(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>'
            while True:
                yield b"flood " * 10_000

        return Response(body(), content_type="application/rss+xml")

    httpserver.expect_request("/endless.rss").respond_with_handler(endless)
    n = news(httpserver.url_for("/endless.rss"), fetch={"max_bytes": 200_000})

    outcomes = n.poll()

    n.assert_good_source_polled(outcomes)
    assert outcomes[n.bad].error == (f"{n.bad}: body over the 200000-byte limit")


def gzip_bomb(mib: int) -> bytes:
    """`mib` MiB of zeros as one gzip member, built in well under a second:
    after the first megabyte every flushed block of zeros compresses to the
    same bytes, so it is repeated instead of compressed again."""
    block = b"\0" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = c.compress(block) + c.flush(zlib.Z_SYNC_FLUSH)
    steady = c.compress(block) + c.flush(zlib.Z_SYNC_FLUSH)
    end = c.flush()[:-8]  # the final block; the trailer is for 2 MiB, so rewrite it
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return head + steady * (mib - 1) + end + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)


def test_gzip_bomb_builder_makes_a_valid_stream() -> None:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert d.decompress(gzip_bomb(3)) == b"\0" * (3 << 20)
    assert d.eof


def test_gzip_bomb_is_cut_at_the_cap_in_bounded_memory(httpserver: HTTPServer, news: Any) -> None:
    bomb = gzip_bomb(1024)  # 1 GiB inflated, about 1 MB on the wire
    httpserver.expect_request("/bomb.rss").respond_with_data(
        bomb, content_type="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )
    n = news(httpserver.url_for("/bomb.rss"), fetch={"max_bytes": 1_000_000})

    tracemalloc.start()
    try:
        outcomes = n.poll()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    n.assert_good_source_polled(outcomes)
    assert outcomes[n.bad].error == f"{n.bad}: body over the 1000000-byte limit"
    # The whole poll of both sources, database included, stays within a few
    # times the cap: nowhere near the gigabyte the bomb inflates to.
    assert peak < 32_000_000


def test_per_host_setting_limits_requests_at_once(news: Any) -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()

    @Request.application
    def slow(request: Request) -> Response:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.2)  # long enough for the other pollers to knock
        with lock:
            in_flight -= 1
        guid = request.path.strip("/")
        return Response(rss(guid, f"Desk {guid}", "Report."), content_type="text/xml")

    server = make_server("127.0.0.1", 0, slow, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    try:
        n = news(f"{base}/d1", scheduler={"per_host": 1, "concurrency": 4})
        for desk in ("d2", "d3"):
            n.add_source(f"{base}/{desk}")
        outcomes = n.poll()
    finally:
        server.shutdown()
    assert most == 1
    assert [o.new_versions for o in outcomes.values()] == [1, 1, 1, 1]


# -- charsets ----------------------------------------------------------------------


def test_latin1_page_without_a_charset_is_stored_correctly(
    httpserver: HTTPServer, news: Any
) -> None:
    httpserver.expect_request("/seilbahn").respond_with_data(
        (DATA / "latin1-article.html").read_bytes(), content_type="text/html"
    )
    n = news(httpserver.url_for("/seilbahn"))

    outcomes = n.poll()

    n.assert_good_source_polled(outcomes)
    [entry] = [e for e in n.store.list_feed_entries("news", 50) if e.latest.title != GOOD_TITLE]
    assert entry.latest.title == "Seilbahn am Zürichberg wieder in Betrieb"
    assert "Im Café an der Bergstation" in entry.latest.text
    assert "«großen Tag»" in entry.latest.text
    assert "Ã" not in entry.latest.text  # no UTF-8-as-Latin-1 mojibake either way


# -- errors stay with their source --------------------------------------------------


def test_healthz_shows_each_failing_source_and_not_the_good_one(
    httpserver: HTTPServer, news: Any, clock: Any
) -> None:
    httpserver.expect_request("/broken.rss").respond_with_data("", status=500)
    n = news(httpserver.url_for("/broken.rss"))
    n.poll()

    health = create_app(n.settings, n.store).test_client().get("/healthz").get_json()

    assert health["status"] == "ok"
    assert health["sources"] == 2
    [entry] = health["failing"]
    assert entry["source"] == n.bad
    assert entry["failures"] == 1
    assert entry["gone"] is False
    assert entry["last_error"] == f"{n.bad}: HTTP 500"
    assert entry["last_error_at"] == clock().isoformat()
    assert entry["next_poll_at"] == n.source(n.bad).next_poll_at.isoformat()
