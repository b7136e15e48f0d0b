"""The Fetcher against local servers: what it sends, what it accepts, where
it stops. How the Updater reacts to each outcome is in test_politeness.py."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.serving import make_server

from feedsvc import config
from feedsvc.errors import FetchError
from feedsvc.fetch import BodyTooLarge, Fetcher, parse_retry_after, read_body

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PAGE = b"<html><head><title>Ferry</title></head><body><p>The ferry runs.</p></body></html>"


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher("feedsvc-test", timeout=2, max_bytes=100_000, clock=lambda: NOW)
    yield f
    f.close()


def requests_to(httpserver: HTTPServer, path: str) -> list[Request]:
    return [req for req, _ in httpserver.log if req.path == path]


# -- what we send --------------------------------------------------------------


def test_user_agent_names_feedsvc_and_the_base_url(httpserver: HTTPServer) -> None:
    settings = config.from_mapping({"service": {"base_url": "https://news.example.org/watch"}})
    httpserver.expect_request("/feed").respond_with_data(PAGE, content_type="text/html")
    f = Fetcher(settings.user_agent)
    try:
        f.get(httpserver.url_for("/feed"))
    finally:
        f.close()
    agent = requests_to(httpserver, "/feed")[0].headers["User-Agent"]
    assert agent.startswith("feedsvc/")
    assert "https://news.example.org/watch" in agent


def test_validators_are_echoed_byte_for_byte(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    # A weak ETag with a byte outside ASCII, and a Last-Modified in an
    # obsolete date format: both must go back exactly as they came.
    etag = 'W/"caf\xe9-17;gz"'
    last_modified = "Sunday, 01-Mar-26 07:30:00 GMT"
    httpserver.expect_ordered_request("/feed").respond_with_data(
        PAGE, content_type="text/html", headers={"ETag": etag, "Last-Modified": last_modified}
    )
    httpserver.expect_ordered_request("/feed").respond_with_data("", status=304)

    first = fetcher.get(httpserver.url_for("/feed"))
    second = fetcher.get(
        httpserver.url_for("/feed"), etag=first.etag, last_modified=first.last_modified
    )

    assert (first.etag, first.last_modified) == (etag, last_modified)
    conditional = requests_to(httpserver, "/feed")[1]
    assert conditional.headers["If-None-Match"] == etag
    assert conditional.headers["If-Modified-Since"] == last_modified
    assert second.not_modified


def test_304_is_an_ordinary_result(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304, headers={"ETag": '"v1"'}
    )
    result = fetcher.get(httpserver.url_for("/feed"), etag='"v1"')
    assert result.status == 304
    assert result.not_modified
    assert result.body == b""
    assert result.etag == '"v1"'


def test_at_most_per_host_requests_at_once_to_one_host() -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()
    release = threading.Event()

    @Request.application
    def slow(request: Request) -> Response:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        release.wait(10)
        with lock:
            in_flight -= 1
        return Response(PAGE, content_type="text/html")

    server = make_server("127.0.0.1", 0, slow, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.socket.getsockname()[1]
    f = Fetcher("feedsvc-test", timeout=10, per_host=2)
    results: list[int] = []

    def get(i: int) -> None:  # one of five pages on the busy host
        results.append(f.get(f"http://127.0.0.1:{port}/page/{i}").status)

    threads = [threading.Thread(target=get, args=(i,)) for i in range(5)]
    try:
        for t in threads:
            t.start()
        _wait_for(lambda: in_flight == 2)
        # Another host name (the same machine here, but the limit goes by
        # name) is not held up by the busy one.
        other = threading.Thread(
            target=lambda: results.append(f.get(f"http://localhost:{port}/other").status)
        )
        other.start()
        _wait_for(lambda: in_flight == 3)
        time.sleep(0.3)  # room for a wrongly admitted fourth request to arrive
        assert in_flight == 3
    finally:
        release.set()
        for t in [*threads, other]:
            t.join(10)
        server.shutdown()
        f.close()
    assert results == [200] * 6
    assert most == 3


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


# -- what the server says --------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_reported(
    httpserver: HTTPServer, fetcher: Fetcher, status: int
) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "slow down", status=status, headers={"Retry-After": "120"}
    )
    with pytest.raises(FetchError) as info:
        fetcher.get(httpserver.url_for("/feed"))
    assert info.value.status == status
    assert info.value.retry_after == 120
    assert "Retry-After 120s" in str(info.value)


def test_retry_after_http_date_is_reported_relative_to_the_clock(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    when = format_datetime(NOW + timedelta(hours=2), usegmt=True)
    httpserver.expect_request("/feed").respond_with_data(
        "", status=503, headers={"Retry-After": when}
    )
    with pytest.raises(FetchError) as info:
        fetcher.get(httpserver.url_for("/feed"))
    assert info.value.retry_after == 7200


def test_retry_after_holds_back_every_request_to_that_host(httpserver: HTTPServer) -> None:
    now = [NOW]
    f = Fetcher("feedsvc-test", clock=lambda: now[0])
    httpserver.expect_request("/busy").respond_with_data(
        "", status=429, headers={"Retry-After": "600"}
    )
    httpserver.expect_request("/page").respond_with_data(PAGE, content_type="text/html")
    try:
        with pytest.raises(FetchError):
            f.get(httpserver.url_for("/busy"))
        now[0] += timedelta(seconds=200)
        with pytest.raises(FetchError) as info:
            f.get(httpserver.url_for("/page"))
        assert "not requested" in str(info.value)
        assert info.value.retry_after == 400
        assert info.value.status == 429
        assert requests_to(httpserver, "/page") == []
        # Another host name is not held back...
        other = httpserver.url_for("/page").replace("localhost", "127.0.0.1")
        assert f.get(other).status == 200
        # ...and once the time is up, the host is asked again.
        now[0] += timedelta(seconds=400)
        assert f.get(httpserver.url_for("/page")).status == 200
    finally:
        f.close()


def test_retry_after_values_that_mean_nothing_are_ignored() -> None:
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("-5", NOW) is None
    assert parse_retry_after("", NOW) is None
    past = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(past, NOW) == 0


def test_410_says_gone(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/feed").respond_with_data("", status=410)
    with pytest.raises(FetchError) as info:
        fetcher.get(httpserver.url_for("/feed"))
    assert info.value.gone
    assert info.value.status == 410


def test_other_errors_are_not_gone(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/feed").respond_with_data("", status=404)
    with pytest.raises(FetchError) as info:
        fetcher.get(httpserver.url_for("/feed"))
    assert not info.value.gone
    assert info.value.retry_after is None
    assert str(info.value).endswith("HTTP 404")


# -- redirects -------------------------------------------------------------------


def redirect(httpserver: HTTPServer, path: str, status: int, to: str) -> None:
    httpserver.expect_request(path).respond_with_data("", status=status, headers={"Location": to})


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_reports_the_new_url(
    httpserver: HTTPServer, fetcher: Fetcher, status: int
) -> None:
    redirect(httpserver, "/old", status, "/new")
    httpserver.expect_request("/new").respond_with_data(PAGE, content_type="text/html")
    result = fetcher.get(httpserver.url_for("/old"))
    assert result.url == httpserver.url_for("/new")
    assert result.permanent_url == httpserver.url_for("/new")


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirect_is_followed_not_remembered(
    httpserver: HTTPServer, fetcher: Fetcher, status: int
) -> None:
    redirect(httpserver, "/old", status, "/today")
    httpserver.expect_request("/today").respond_with_data(PAGE, content_type="text/html")
    result = fetcher.get(httpserver.url_for("/old"))
    assert result.url == httpserver.url_for("/today")
    assert result.permanent_url is None


def test_chain_is_permanent_only_up_to_its_first_temporary_hop(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    redirect(httpserver, "/a", 301, "/b")
    redirect(httpserver, "/b", 307, "/c")
    redirect(httpserver, "/c", 301, "/d")
    httpserver.expect_request("/d").respond_with_data(PAGE, content_type="text/html")
    result = fetcher.get(httpserver.url_for("/a"))
    assert result.url == httpserver.url_for("/d")
    assert result.permanent_url == httpserver.url_for("/b")


def test_a_cookie_set_on_a_redirect_goes_back_with_the_next_request(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    # A cookie check as some sites make one: set it, redirect, want it back.
    httpserver.expect_request("/story").respond_with_response(
        Response(status=302, headers={"Location": "/story/", "Set-Cookie": "seen=1; Path=/"})
    )
    httpserver.expect_request("/story/").respond_with_data(PAGE, content_type="text/html")
    fetcher.get(httpserver.url_for("/story"))
    assert requests_to(httpserver, "/story/")[0].cookies.get("seen") == "1"


def test_redirect_loop_is_an_error(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    redirect(httpserver, "/a", 302, "/b")
    redirect(httpserver, "/b", 302, "/a")
    with pytest.raises(FetchError, match="redirect loop"):
        fetcher.get(httpserver.url_for("/a"))
    assert len(httpserver.log) == 2


def test_endless_redirect_chain_is_an_error(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    for i in range(20):
        redirect(httpserver, f"/r{i}", 302, f"/r{i + 1}")
    with pytest.raises(FetchError, match="more than 10 redirects"):
        fetcher.get(httpserver.url_for("/r0"))


def test_redirect_off_http_is_refused(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    redirect(httpserver, "/a", 301, "file:///etc/passwd")
    with pytest.raises(FetchError, match="not an http"):
        fetcher.get(httpserver.url_for("/a"))


def test_redirect_to_a_broken_url_is_an_error() -> None:
    # werkzeug will not send this Location, so the server is httpx's mock.
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://[::1/feed"})

    f = Fetcher("feedsvc-test", transport=httpx.MockTransport(upstream))
    try:
        with pytest.raises(FetchError, match=r"(?i)invalid URL in location"):
            f.get("http://news.test/a")
    finally:
        f.close()


@pytest.mark.parametrize(
    "url",
    ["http://[::1/feed", "http://\u2603.invalid/feed", "http://xn--.test/", "http://a..b/feed"],
)
def test_urls_that_cannot_be_fetched_are_one_line_errors(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert "\n" not in str(info.value)
    assert url in str(info.value)


# -- bodies ----------------------------------------------------------------------


def test_gzip_and_deflate_bodies_are_decoded(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    raw_deflate = zlib.compressobj(wbits=-15)
    encodings = {
        "gzip": gzip.compress(PAGE),
        "deflate": zlib.compress(PAGE),  # zlib-wrapped, as the RFC says
        "Deflate": raw_deflate.compress(PAGE) + raw_deflate.flush(),  # as some servers send
    }
    for name, body in encodings.items():
        httpserver.expect_request(f"/{name}").respond_with_data(
            body, content_type="text/html", headers={"Content-Encoding": name}
        )
        assert fetcher.get(httpserver.url_for(f"/{name}")).body == PAGE


def test_concatenated_gzip_members_are_one_body() -> None:
    body = gzip.compress(b"first half, ") + gzip.compress(b"second half")
    assert read_body([body[:7], body[7:]], "gzip", 1000) == b"first half, second half"


def test_truncated_gzip_body_is_an_error(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    body = gzip.compress(PAGE * 50)[:-30]
    httpserver.expect_request("/feed").respond_with_data(
        body, content_type="text/html", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError, match="ends early"):
        fetcher.get(httpserver.url_for("/feed"))


def test_encoding_we_did_not_ask_for_is_an_error(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        b"\x1b\x00", content_type="text/html", headers={"Content-Encoding": "zstd"}
    )
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'zstd'"):
        fetcher.get(httpserver.url_for("/feed"))
    assert "gzip" in httpserver.log[0][0].headers["Accept-Encoding"]


def test_declared_length_over_the_cap_is_refused_unread(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 200_000)
    with pytest.raises(FetchError, match="body of 200000 bytes is over the 100000-byte limit"):
        fetcher.get(httpserver.url_for("/big"))


@pytest.mark.parametrize("wbits", [-15, 15], ids=["raw-deflate", "zlib-deflate"])
def test_deflate_bomb_is_cut_at_the_cap(
    httpserver: HTTPServer, fetcher: Fetcher, wbits: int
) -> None:
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    bomb = b"".join(c.compress(b"\0" * 1_000_000) for _ in range(50)) + c.flush()
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "deflate"}
    )
    with pytest.raises(FetchError, match="over the 100000-byte limit"):
        fetcher.get(httpserver.url_for("/bomb"))


def test_inflating_a_bomb_holds_no_more_than_the_cap_in_memory() -> None:
    # 50 MB of zeros in 50 kB: a reader that inflates a chunk at once would
    # hold all 50 MB; ours never asks zlib for more than one byte past the cap.
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(c.compress(b"\0" * 1_000_000) for _ in range(50)) + c.flush()
    chunks = [bomb[i : i + 65536] for i in range(0, len(bomb), 65536)]
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            read_body(chunks, "gzip", 100_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


# -- slow servers ------------------------------------------------------------------


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """Answers at once, then sends its body one byte every 50 ms: each read
    is quick, the whole answer never finishes."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 50000\r\n\r\n"
            )
            while not stop.is_set():
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
    stop.set()
    listener.close()
    thread.join(5)


def test_dripping_server_is_cut_off_at_the_deadline(dripping_server: str) -> None:
    f = Fetcher("feedsvc-test", timeout=0.5)
    try:
        with pytest.raises(FetchError, match=r"body not complete after 0\.5s"):
            f.get(dripping_server)
    finally:
        f.close()


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full: the kernel drops further SYNs, so
    a new connection neither succeeds nor fails, like a black-holed host."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        queued.append(s)
    time.sleep(0.1)  # let the handshakes that can complete, complete
    yield port
    for s in queued:
        s.close()
    listener.close()


def test_unanswered_connection_times_out_at_connect_timeout(unanswered_port: int) -> None:
    f = Fetcher("feedsvc-test", timeout=5, connect_timeout=0.3)
    try:
        with pytest.raises(FetchError, match=r"no connection within 0\.3s"):
            f.get(f"http://127.0.0.1:{unanswered_port}/feed")
    finally:
        f.close()
