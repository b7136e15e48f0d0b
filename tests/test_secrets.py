"""Credentials in source URLs stay secret: userinfo and token-like query
values are masked wherever a URL is shown (pages and their "original
article" links, feeds, the API, /healthz, /metrics, the log of `feedsvc
poll`). With `[service] admin_token`, /metrics answers and /healthz gives
details only to a request bearing it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from feedsvc import redact
from feedsvc.web import create_app
from tests.harness import cli_env

SECRETS = ("s3cret-pw", "k3y-value", "tok-value")


def rss(link: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>http://news.test/</link>
<description>x</description>
<item><title>Harbour bridge closed</title><link>{link}</link><guid>urn:wire:1</guid>
<description>Engineers closed the Harbour Bridge after cracks were found in the span.
</description></item></channel></rss>"""


@pytest.fixture
def polled(httpserver: HTTPServer, make_settings: Any, store_for: Any, tmp_path: Path) -> Any:
    """Two sources with credentials in their URLs, polled by `feedsvc poll`
    in a subprocess: one answers a feed whose entry links carry a token, the
    other fails. Returns (settings, store, the poll's stderr)."""
    story = "http://news.test/story?id=7&amp;access_token=tok-value"
    httpserver.expect_request("/feed.xml").respond_with_handler(
        lambda _r: Response(rss(story), content_type="application/rss+xml")
    )
    httpserver.expect_request("/broken.xml").respond_with_data("no", status=500)
    port = httpserver.port
    settings = make_settings(
        [
            {
                "name": "wire",
                "sources": [
                    f"http://reader:s3cret-pw@localhost:{port}/feed.xml?api_key=k3y-value",
                    f"http://reader:s3cret-pw@localhost:{port}/broken.xml?sig=k3y-value&v=2",
                ],
            }
        ],
        service={"admin_token": "let-me-in"},
    )
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll", "--config", str(settings.path)],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # one source failed
    assert "HTTP 500" in done.stderr
    return settings, store_for(settings), done.stderr


def test_secrets_in_source_urls_are_shown_masked_everywhere(polled: Any) -> None:
    settings, store, stderr = polled
    client = create_app(settings, store).test_client()
    admin = {"Authorization": "Bearer let-me-in"}
    aid = store.find_article("urn:wire:1").id
    shown = {
        "log": stderr,
        "healthz": client.get("/healthz", headers=admin).get_data(as_text=True),
        "metrics": client.get("/metrics", headers=admin).get_data(as_text=True),
        "index": client.get("/").get_data(as_text=True),
        "article": client.get(f"/articles/{aid}").get_data(as_text=True),
        "atom": client.get("/feeds/wire.atom").get_data(as_text=True),
        "rss": client.get("/feeds/wire.rss").get_data(as_text=True),
        "api": client.get(f"/api/articles/{aid}").get_data(as_text=True),
        "export": client.get("/api/export").get_data(as_text=True),
    }
    for where, body in shown.items():
        for secret in SECRETS:
            assert secret not in body, (where, secret)
    # Masked, not dropped: the reader still sees where things are.
    assert "http://***@localhost:" in shown["healthz"]
    assert "sig=***&v=2" in shown["healthz"]
    assert "access_token=***" in shown["article"]  # the "original article" link
    assert "Original article" in shown["article"]


def test_the_admin_token_guards_metrics_and_healthz_details(polled: Any) -> None:
    settings, store, _ = polled
    client = create_app(settings, store).test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    wrong = {"Authorization": "Bearer not-it"}
    assert client.get("/healthz", headers=wrong).get_json() == {"status": "ok", "database": "ok"}
    details = client.get("/healthz", headers={"Authorization": "Bearer let-me-in"}).get_json()
    assert len(details["failing"]) == 1
    refused = client.get("/metrics", headers=wrong)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics").status_code == 401
    metrics = client.get("/metrics", headers={"Authorization": "Bearer let-me-in"})
    assert metrics.status_code == 200
    assert 'feedsvc_feed_failing{feed="wire"} 1' in metrics.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://news.test/feed", "https://news.test/feed"),
        ("https://u:p@news.test/feed", "https://***@news.test/feed"),
        ("https://news.test/f?apikey=abc&page=2", "https://news.test/f?apikey=***&page=2"),
        ("https://news.test/f?Auth=abc", "https://news.test/f?Auth=***"),
        ("https://news.test/f?id=1&x=y", "https://news.test/f?id=1&x=y"),
    ],
)
def test_what_is_masked(url: str, shown: str) -> None:
    assert redact.url(url) == shown
    assert redact.text(f"fetching {url}: HTTP 500") == f"fetching {shown}: HTTP 500"
