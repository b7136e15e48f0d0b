"""HTTP caching to the letter of RFC 9110, on feeds and pages: most polls of
a popular feed should cost almost nothing and never serve stale data."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest
from werkzeug.http import http_date, parse_date

from tests.harness import FakeClock
from tests.newsroom import Newsroom

FEED = "/feeds/news.atom"


@pytest.fixture
def newsroom(
    make_settings: Any, store_for: Any, tmp_path: Path, clock: FakeClock
) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path, make_settings, store_for, clock, ("news",), cache_max_age=120)
    room.write("bridge", "Harbour bridge closed")
    room.poll()
    yield room
    room.close()


def test_a_feed_carries_validators_and_cache_headers(newsroom: Newsroom) -> None:
    response = newsroom.client.get(FEED)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=120"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')
    assert parse_date(response.headers["Last-Modified"]) == newsroom.clock.now.replace(
        microsecond=0
    )
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert "Link" not in response.headers  # no hub configured: nothing to discover


def test_an_etag_round_trip_is_answered_304_without_a_body(newsroom: Newsroom) -> None:
    etag = newsroom.client.get(FEED).headers["ETag"]

    response = newsroom.client.get(FEED, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "public, max-age=120"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert "Content-Type" not in response.headers


def test_a_weak_or_listed_etag_also_matches(newsroom: Newsroom) -> None:
    etag = newsroom.client.get(FEED).headers["ETag"]

    listed = newsroom.client.get(FEED, headers={"If-None-Match": f'"other", W/{etag}'})

    assert listed.status_code == 304


def test_a_last_modified_round_trip_is_answered_304(newsroom: Newsroom) -> None:
    modified = newsroom.client.get(FEED).headers["Last-Modified"]

    response = newsroom.client.get(FEED, headers={"If-Modified-Since": modified})

    assert response.status_code == 304
    assert response.data == b""


def test_if_modified_since_is_not_newer_than_not_equal(newsroom: Newsroom) -> None:
    """Some readers send the time of their last poll instead of our date."""
    later = http_date(newsroom.clock.now + timedelta(hours=1))
    earlier = http_date(newsroom.clock.now - timedelta(hours=1))

    assert newsroom.client.get(FEED, headers={"If-Modified-Since": later}).status_code == 304
    assert newsroom.client.get(FEED, headers={"If-Modified-Since": earlier}).status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(newsroom: Newsroom) -> None:
    modified = newsroom.client.get(FEED).headers["Last-Modified"]

    response = newsroom.client.get(
        FEED, headers={"If-None-Match": '"stale"', "If-Modified-Since": modified}
    )

    assert response.status_code == 200
    assert b"Harbour bridge closed" in response.data


def test_a_new_revision_changes_the_etag_and_the_next_poll_gets_it(newsroom: Newsroom) -> None:
    first = newsroom.client.get(FEED)
    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")
    newsroom.poll()

    response = newsroom.client.get(
        FEED,
        headers={
            "If-None-Match": first.headers["ETag"],
            "If-Modified-Since": first.headers["Last-Modified"],
        },
    )

    assert response.status_code == 200
    assert response.headers["ETag"] != first.headers["ETag"]
    assert b"Harbour bridge reopens" in response.data
    again = newsroom.client.get(FEED, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_head_has_the_headers_of_get_and_no_body(newsroom: Newsroom) -> None:
    get = newsroom.client.get(FEED)

    head = newsroom.client.head(FEED)

    assert head.status_code == 200
    assert head.data == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Length", "Cache-Control"):
        assert head.headers[name] == get.headers[name]


def test_gzip_is_applied_when_asked_and_not_otherwise(newsroom: Newsroom) -> None:
    plain = newsroom.client.get(FEED)

    zipped = newsroom.client.get(FEED, headers={"Accept-Encoding": "gzip, deflate"})
    refused = newsroom.client.get(FEED, headers={"Accept-Encoding": "gzip;q=0, identity"})

    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data)
    # Other bytes, so another strong validator; it round-trips like the plain one.
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert "Content-Encoding" not in refused.headers
    again = newsroom.client.get(
        FEED, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304


def test_brotli_is_preferred_when_the_client_takes_it(newsroom: Newsroom) -> None:
    plain = newsroom.client.get(FEED)

    response = newsroom.client.get(FEED, headers={"Accept-Encoding": "gzip, deflate, br"})

    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.data) == plain.data


def test_the_compressed_bytes_are_the_same_on_every_request(newsroom: Newsroom) -> None:
    asks = [newsroom.client.get(FEED, headers={"Accept-Encoding": "gzip"}) for _ in range(3)]

    assert len({r.data for r in asks}) == 1
    assert len({r.headers["ETag"] for r in asks}) == 1


def test_pages_answer_conditional_requests_too(newsroom: Newsroom) -> None:
    aid = newsroom.store.get_feed_page("news", 1)[0][0].article.id
    for path in ("/", f"/articles/{aid}", f"/articles/{aid}/versions/1.txt"):
        page = newsroom.client.get(path)
        assert page.status_code == 200, path
        assert "charset=utf-8" in page.headers["Content-Type"]
        assert page.headers["Cache-Control"] == "public, max-age=120"
        repeat = newsroom.client.get(path, headers={"If-None-Match": page.headers["ETag"]})
        assert repeat.status_code == 304, path


def test_a_page_changes_with_its_data(newsroom: Newsroom) -> None:
    aid = newsroom.store.get_feed_page("news", 1)[0][0].article.id
    page = newsroom.client.get(f"/articles/{aid}")
    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")
    newsroom.poll()

    response = newsroom.client.get(
        f"/articles/{aid}", headers={"If-None-Match": page.headers["ETag"]}
    )

    assert response.status_code == 200
    assert b"Harbour bridge reopens" in response.data


def test_a_missing_page_is_a_plain_404(newsroom: Newsroom) -> None:
    response = newsroom.client.get("/articles/0000000000000000")

    assert response.status_code == 404
    assert "ETag" not in response.headers
