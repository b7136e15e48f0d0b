"""/metrics speaks the Prometheus text format and counts what is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from feedsvc.pool import poll_sources
from feedsvc.update import Updater
from feedsvc.web import create_app


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_sources_articles_and_versions(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "a.txt").write_text("Storm nears\n\nWinds rise.\n\nMore details to follow.\n")
    (folder / "b.txt").write_text("Budget passes\n\nThe council voted.\n")
    settings = make_settings(
        [
            {"name": "local", "sources": ["stories"]},
            {"name": "broken", "sources": ["http://127.0.0.1:9/feed.xml"]},
        ]
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    poll_sources(updater, "test", due_only=False)
    (folder / "b.txt").write_text("Budget passes\n\nThe council voted seven to four.\n")
    clock.advance(60)
    poll_sources(updater, "test", due_only=False)

    client = create_app(settings, store).test_client()
    client.get("/no/such/page")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    got = samples(response.get_data(as_text=True))
    local, broken = (("feed", "local"),), (("feed", "broken"),)
    assert got[("feedsvc_feed_sources", local)] == 1
    assert got[("feedsvc_feed_articles", local)] == 2
    assert got[("feedsvc_feed_developing", local)] == 1
    assert got[("feedsvc_feed_versions", local)] == 3
    assert got[("feedsvc_feed_failing", broken)] == 1
    assert got[("feedsvc_feed_failing", local)] == 0
    assert got[("feedsvc_feed_last_change_timestamp_seconds", local)] == clock().timestamp()
    assert got[("feedsvc_http_responses_total", (("code", "4xx"),))] == 1
