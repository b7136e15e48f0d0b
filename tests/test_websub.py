"""WebSub: feeds advertise the hub, the hub hears about every change, and a
failing hub is retried with backoff without ever holding up ingest."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer

from feedsvc.websub import HubPinger, retry_delay
from tests.harness import FakeClock, cli_env, links
from tests.newsroom import Newsroom

TOPICS = ["http://feeds.test/feeds/news.atom", "http://feeds.test/feeds/news/revisions.atom"]


@pytest.fixture
def hub(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=202)
    return httpserver


@pytest.fixture
def newsroom(
    make_settings: Any, store_for: Any, tmp_path: Path, clock: FakeClock, hub: HTTPServer
) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path, make_settings, store_for, clock, ("news",), hub=hub.url_for("/hub"))
    yield room
    room.close()


@pytest.fixture
def pinger(newsroom: Newsroom) -> Iterator[HubPinger]:
    p = HubPinger(newsroom.settings, newsroom.store, clock=newsroom.clock)
    yield p
    p.close()


def pings(server: HTTPServer) -> list[dict[str, list[str]]]:
    return [parse_qs(request.get_data(as_text=True)) for request, _ in server.log]


def test_feeds_advertise_the_hub_and_themselves(newsroom: Newsroom) -> None:
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.poll()
    hub_url = newsroom.settings.service.hub

    for path in ("/feeds/news.atom", "/feeds/news/revisions.atom"):
        doc = etree.fromstring(newsroom.client.get(path).data)
        assert links(doc, "hub") == [hub_url], path
        assert links(doc, "self") == [f"http://feeds.test{path}"], path


def test_feed_answers_carry_websub_link_headers(newsroom: Newsroom) -> None:
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.poll()

    response = newsroom.client.get("/feeds/news.atom")

    assert response.headers["Link"] == (
        f'<{newsroom.settings.service.hub}>; rel="hub", '
        '<http://feeds.test/feeds/news.atom>; rel="self"'
    )


def test_a_changed_feed_is_published_to_the_hub_once(
    newsroom: Newsroom, pinger: HubPinger, hub: HTTPServer
) -> None:
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.poll()

    pinger.run()
    pinger.run()  # nothing changed since: nothing to say

    assert pings(hub) == [{"hub.mode": ["publish"], "hub.url": [topic]} for topic in TOPICS]


def test_every_new_version_is_published(
    newsroom: Newsroom, pinger: HubPinger, hub: HTTPServer
) -> None:
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.poll()
    pinger.run()
    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")
    newsroom.poll()

    pinger.run()

    assert len(pings(hub)) == 2 * len(TOPICS)


def test_a_failing_hub_is_retried_with_backoff_and_never_blocks_ingest(
    newsroom: Newsroom, pinger: HubPinger, httpserver: HTTPServer
) -> None:
    httpserver.clear_all_handlers()
    httpserver.expect_request("/hub", method="POST").respond_with_data("down", status=503)
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.poll()

    first = pinger.run()
    failed_at = newsroom.clock.now
    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")
    newsroom.poll(10)  # ingest goes on while the hub is down
    pinger.run()  # still inside the backoff: the hub is left alone

    assert [p.error for p in first] == ["HTTP 503"]
    assert len(httpserver.log) == 1
    pinged, failures, after, error = newsroom.store.get_ping_state("news")
    assert (pinged, failures, error) == (0, 1, "HTTP 503")
    assert after == failed_at + timedelta(seconds=retry_delay(1))
    assert b"Harbour bridge reopens" in newsroom.client.get("/feeds/news.atom").data

    health = newsroom.client.get("/healthz").get_json()
    assert health["hub_failing"] == [
        {
            "feed": "news",
            "failures": 1,
            "last_error": "HTTP 503",
            "retry_at": (failed_at + timedelta(seconds=retry_delay(1))).isoformat(),
        }
    ]

    httpserver.clear_all_handlers()
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=204)
    newsroom.clock.advance(retry_delay(1))
    again = pinger.run()

    assert [p.error for p in again] == [None]
    serial, _ = newsroom.store.serials.read("news")
    assert newsroom.store.get_ping_state("news") == (serial, 0, None, None)
    assert newsroom.client.get("/healthz").get_json()["hub_failing"] == []


def test_an_unreachable_hub_is_a_recorded_failure(
    make_settings: Any, store_for: Any, tmp_path: Path, clock: FakeClock
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    room = Newsroom(
        tmp_path, make_settings, store_for, clock, ("news",), hub=f"http://127.0.0.1:{port}/hub"
    )
    room.write("bridge", "Harbour bridge closed")
    room.poll()
    pinger = HubPinger(room.settings, room.store, clock=clock)

    result = pinger.run()

    pinger.close()
    room.close()
    assert result[0].error is not None and result[0].error.startswith("ConnectError")


def test_backoff_doubles_up_to_a_ceiling() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(50) == 6 * 3600


def test_feedsvc_poll_publishes_the_change(newsroom: Newsroom, hub: HTTPServer) -> None:
    newsroom.write("bridge", "Harbour bridge closed")
    assert newsroom.settings.path is not None

    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll", "--config", str(newsroom.settings.path)],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert [p["hub.url"] for p in pings(hub)] == [[t] for t in TOPICS]
