"""WARC export: the raw responses behind every version come out as WARC/1.1
records that warcio reads back with their digests verified, from the
command line and over HTTP."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_datetime
from werkzeug import Request, Response

from feedsvc.pool import poll_sources
from feedsvc.update import Updater
from feedsvc.web import create_app
from tests.harness import cli_env

ARTICLE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title} | The Harbour Gazette</title></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>{title}</h1>
{paragraphs}
</article>
<footer>Copyright The Harbour Gazette</footer></body></html>
"""
P1 = (
    "Engineers closed the Harbour Bridge early on Tuesday after an overnight inspection "
    "found cracks in a steel beam of the main span, the city council said."
)
P2 = (
    "Ferries will run every ten minutes in both directions until further notice, and "
    "buses will be diverted over the river crossing at Millbank for commuters."
)
P3 = (
    "On Wednesday the city said two more cracks had been found and that the bridge would "
    "stay closed for at least a month while a temporary support is built."
)


def page(title: str, *paragraphs: str) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return ARTICLE.format(title=title, paragraphs=body).encode("utf-8")


class Upstream:
    """An article page served gzip-compressed with validators, whose body
    the test changes between polls."""

    def __init__(self, server: HTTPServer) -> None:
        self.body = page("Harbour bridge closed", P1, P2)
        self.etag = 1
        server.expect_request("/news/bridge").respond_with_handler(self.handle)

    def publish(self, body: bytes) -> None:
        self.body = body
        self.etag += 1

    def handle(self, request: Request) -> Response:
        etag = f'"v{self.etag}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(
            gzip.compress(self.body),
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Content-Encoding": "gzip",
                "ETag": etag,
                "X-Served-By": "gazette-7",
            },
        )


@pytest.fixture
def evidence(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any
) -> dict[str, Any]:
    """Two versions of an article page, fetched ten minutes apart."""
    upstream = Upstream(httpserver)
    url = httpserver.url_for("/news/bridge")
    settings = make_settings([{"name": "city", "title": "City", "sources": [url]}])
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    fetched = []
    for body in (upstream.body, page("Harbour bridge closed", P1, P2, P3)):
        upstream.publish(body)
        clock.advance(600)
        fetched.append((clock(), body))
        assert all(o.error is None for o in poll_sources(updater, "test", due_only=False))
    updater.close()
    return {"settings": settings, "store": store, "url": url, "fetched": fetched}


def records(data: bytes) -> list[Any]:
    out = []
    for record in ArchiveIterator(io.BytesIO(data), check_digests="raise"):
        out.append(
            {
                "type": record.rec_type,
                "headers": record.rec_headers,
                "http": record.http_headers,
                "payload": record.content_stream().read(),
            }
        )
    return out


def export_cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "export", "--config", str(settings.path), *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )


def test_every_fetch_is_a_response_with_its_request_and_a_metadata_record_per_version(
    evidence: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "city.warc.gz"
    result = export_cli(evidence["settings"], "--warc", str(out))
    assert result.returncode == 0, result.stderr
    assert "2 versions" in result.stderr
    recs = records(out.read_bytes())
    assert [r["type"] for r in recs] == [
        "warcinfo",
        "response",
        "request",
        "metadata",
        "response",
        "request",
        "metadata",
    ]
    assert all(r["headers"].protocol == "WARC/1.1" for r in recs)
    responses = [r for r in recs if r["type"] == "response"]
    for response, (fetched_at, body) in zip(responses, evidence["fetched"], strict=True):
        headers = response["headers"]
        assert headers.get_header("WARC-Target-URI") == evidence["url"]
        assert iso_date_to_datetime(headers.get_header("WARC-Date")) == fetched_at.replace(
            tzinfo=None
        )
        assert response["payload"] == body  # as fetched, inflated
        assert response["http"].get_statuscode() == "200"
        assert response["http"].get_header("X-Served-By") == "gazette-7"
        assert response["http"].get_header("Content-Length") == str(len(body))
        assert response["http"].get_header("Content-Encoding") is None
        assert response["http"].get_header("X-Feedsvc-Orig-Content-Encoding") == "gzip"
        assert headers.get_header("WARC-Payload-Digest").startswith("sha1:")
        assert headers.get_header("WARC-Block-Digest").startswith("sha1:")


def test_the_request_record_is_the_conditional_get_as_it_was_sent(
    evidence: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "city.warc.gz"
    assert export_cli(evidence["settings"], "--warc", str(out)).returncode == 0
    recs = records(out.read_bytes())
    requests = [r for r in recs if r["type"] == "request"]
    responses = [r for r in recs if r["type"] == "response"]
    for request, response in zip(requests, responses, strict=True):
        assert request["http"].protocol == "GET"
        assert request["http"].statusline.startswith("/news/bridge")
        assert "feedsvc" in request["http"].get_header("User-Agent")
        assert request["headers"].get_header("WARC-Concurrent-To") == response[
            "headers"
        ].get_header("WARC-Record-ID")
    # The second fetch echoed the first answer's validator.
    assert requests[0]["http"].get_header("If-None-Match") is None
    assert requests[1]["http"].get_header("If-None-Match") == '"v2"'


def test_metadata_records_name_the_article_version_class_and_text_hash(
    evidence: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "city.warc.gz"
    assert export_cli(evidence["settings"], "--warc", str(out)).returncode == 0
    store = evidence["store"]
    (article,) = store.list_feed_entries("city", 10)
    versions = store.get_versions(article.article.id)
    metas = [r for r in records(out.read_bytes()) if r["type"] == "metadata"]
    assert len(metas) == len(versions) == 2
    for meta, version in zip(metas, versions, strict=True):
        assert meta["headers"].get_header("Content-Type") == "application/warc-fields"
        fields = dict(line.split(": ", 1) for line in meta["payload"].decode().splitlines() if line)
        assert fields["feedsvc-article-id"] == article.article.id
        assert fields["feedsvc-version"] == str(version.number)
        assert fields["feedsvc-change-class"] == version.change_class
        assert fields["feedsvc-text-sha256"] == version.sha256
    assert [m["headers"].get_header("WARC-Refers-To") for m in metas] == [
        r["headers"].get_header("WARC-Record-ID")
        for r in records(out.read_bytes())
        if r["type"] == "response"
    ]


def test_since_keeps_only_the_evidence_of_later_versions(
    evidence: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "later.warc.gz"
    second = evidence["fetched"][1][0].isoformat()
    assert export_cli(evidence["settings"], "--warc", str(out), "--since", second).returncode == 0
    recs = records(out.read_bytes())
    assert [r["type"] for r in recs] == ["warcinfo", "response", "request", "metadata"]
    assert recs[1]["payload"] == evidence["fetched"][1][1]


def test_the_api_streams_the_same_records(evidence: dict[str, Any], tmp_path: Path) -> None:
    app = create_app(evidence["settings"], evidence["store"])
    response = app.test_client().get("/api/export?format=warc&feed=city")
    assert response.status_code == 200
    assert response.mimetype == "application/warc"
    assert "attachment" in response.headers["Content-Disposition"]
    recs = records(response.get_data())
    assert [r["type"] for r in recs].count("response") == 2
    assert [r["payload"] for r in recs if r["type"] == "response"] == [
        body for _, body in evidence["fetched"]
    ]


def test_an_unknown_export_format_is_a_400(evidence: dict[str, Any]) -> None:
    app = create_app(evidence["settings"], evidence["store"])
    response = app.test_client().get("/api/export?format=pdf")
    assert response.status_code == 400
    assert "warc" in response.get_json()["error"]


def test_local_files_are_resource_records(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "bridge.txt").write_text("Harbour bridge closed\n\n" + P1 + "\n", encoding="utf-8")
    settings = make_settings([{"name": "city", "title": "City", "sources": ["stories"]}])
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    poll_sources(Updater(settings, store, clock=clock), "test", due_only=False)
    out = tmp_path / "local.warc.gz"
    assert export_cli(settings, "--warc", str(out)).returncode == 0
    recs = records(out.read_bytes())
    assert [r["type"] for r in recs] == ["warcinfo", "resource", "metadata"]
    assert recs[1]["headers"].get_header("WARC-Target-URI").startswith("file://")
    assert recs[1]["payload"] == (folder / "bridge.txt").read_bytes()


def test_a_bomb_leaves_no_evidence_and_the_good_source_exports(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any, tmp_path: Path
) -> None:
    """A body over the size cap is refused whole, never stored truncated:
    the WARC holds the good source's evidence and nothing of the bomb."""
    bomb = gzip.compress(b"<p>" + b"a" * 20_000_000 + b"</p>")
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip", "Content-Type": "text/html"}
    )
    httpserver.expect_request("/good").respond_with_data(
        page("Harbour bridge closed", P1, P2), content_type="text/html; charset=utf-8"
    )
    settings = make_settings(
        [
            {
                "name": "city",
                "title": "City",
                "sources": [httpserver.url_for("/bomb"), httpserver.url_for("/good")],
            }
        ],
        fetch={"max_bytes": 1_000_000},
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    outcomes = poll_sources(Updater(settings, store, clock=clock), "test", due_only=False)
    assert sorted(o.error is None for o in outcomes) == [False, True]
    out = tmp_path / "city.warc.gz"
    assert export_cli(settings, "--warc", str(out)).returncode == 0
    uris = [r["headers"].get_header("WARC-Target-URI") for r in records(out.read_bytes())]
    assert httpserver.url_for("/good") in uris
    assert httpserver.url_for("/bomb") not in uris


def test_an_unwritable_warc_path_is_one_line_and_exit_2(
    evidence: dict[str, Any], tmp_path: Path
) -> None:
    result = export_cli(evidence["settings"], "--warc", str(tmp_path / "no" / "such" / "x.warc"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
