"""Statistics: a newsroom with known revisions (clock moved by hand) gives
exact figures in /api/stats, on /stats, in the charts and from
`feedsvc stats`, on each backend."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import pytest

from feedsvc.stats import ArticleFacts, VersionFacts, compute, duration, percentile
from tests.harness import cli_env
from tests.newsroom import BRIDGE, Newsroom

SUMMIT_1 = "Leaders met in Geneva for two days of talks on the river treaty."
SUMMIT_2 = "A second round is planned for the spring, officials said on Friday evening."


@pytest.fixture
def room(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    """Two feeds over two days (the clock starts 2026-03-01 09:00 UTC):

    city/bridge  v1 09:20, append 09:40, headline 10:40, correction day 2 10:40
    city/flood   v1 09:20, never revised
    city/late    v1 day 2 11:40
    world/summit v1 09:20, deletion 10:40, revert (to v1) day 2 10:40
    world/vote   v1 09:20, never revised
    """
    room = Newsroom(tmp_path, make_settings, store_for, clock, feeds=("city", "world"))
    room.write("bridge", BRIDGE[0][0], *BRIDGE[0][1])
    room.write("flood", "Flood warning for the lower town", "River levels are rising fast.")
    room.write("summit", "Summit talks in Geneva", SUMMIT_1, SUMMIT_2, feed="world")
    room.write("vote", "Council vote delayed", "The vote moves to Thursday.", feed="world")
    room.poll(20 * 60)  # 09:20
    room.write("bridge", BRIDGE[1][0], *BRIDGE[1][1])
    room.poll(20 * 60)  # 09:40
    room.write("bridge", BRIDGE[2][0], *BRIDGE[2][1])
    room.write("summit", "Summit talks in Geneva", SUMMIT_1, feed="world")
    room.poll(60 * 60)  # 10:40
    room.write("bridge", BRIDGE[4][0], *BRIDGE[4][1])
    room.write("summit", "Summit talks in Geneva", SUMMIT_1, SUMMIT_2, feed="world")
    room.poll(24 * 60 * 60)  # day 2, 10:40
    room.write("late", "Late story", "A ferry ran aground near the harbour mouth.")
    room.poll(60 * 60)  # day 2, 11:40
    return room


def test_the_classes_are_the_ones_the_figures_assume(room: Newsroom) -> None:
    bridge = room.store.get_versions(room.article("bridge").id)
    summit = room.store.get_versions(room.article("summit", feed="world").id)
    assert [v.change_class for v in bridge] == ["initial", "append", "headline", "correction"]
    assert [v.change_class for v in summit] == ["initial", "deletion", "revert"]


def test_api_stats_gives_the_exact_figures_per_feed(room: Newsroom) -> None:
    data = room.client.get("/api/stats").get_json()
    city, world = data["feeds"]
    assert city["feed"] == "city"
    assert city["title"] == "City News"
    assert (city["articles"], city["revised"], city["revisions"]) == (3, 1, 3)
    assert city["revised_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert city["revisions_per_article"] == {
        "0": 2,
        "1": 0,
        "2": 0,
        "3-4": 1,
        "5-9": 0,
        "10+": 0,
    }
    assert city["seconds_to_first_revision"]["median"] == 1200
    assert city["seconds_to_first_revision"]["p90"] == 1200
    assert city["seconds_to_first_revision"]["distribution"]["10-60 min"] == 1
    assert (city["headline_changes"], city["corrections"]) == (1, 1)
    assert (city["deletions"], city["reverts"], city["pages_gone"]) == (0, 0, 0)
    assert city["classes"] == {
        "append": 1,
        "edit": 0,
        "headline": 1,
        "correction": 1,
        "deletion": 0,
        "revert": 0,
    }
    assert city["revisions_per_day"] == [
        {"date": "2026-03-01", "revisions": 2},
        {"date": "2026-03-02", "revisions": 1},
    ]
    assert (world["articles"], world["revised"], world["revisions"]) == (2, 1, 2)
    assert (world["deletions"], world["reverts"], world["headline_changes"]) == (1, 1, 0)
    assert world["seconds_to_first_revision"]["median"] == 4800


def test_api_stats_gives_the_exact_figures_for_all_feeds(room: Newsroom) -> None:
    total = room.client.get("/api/stats").get_json()["all"]
    assert (total["articles"], total["revised"], total["revisions"]) == (5, 2, 5)
    assert total["revised_share"] == 0.4
    # Median of 20 and 80 minutes; nearest-rank p90 of two values is the larger.
    assert total["seconds_to_first_revision"]["median"] == 3000
    assert total["seconds_to_first_revision"]["p90"] == 4800
    assert total["revisions_per_day"] == [
        {"date": "2026-03-01", "revisions": 3},
        {"date": "2026-03-02", "revisions": 2},
    ]


def test_since_takes_the_articles_first_seen_and_the_revisions_made_after_it(
    room: Newsroom,
) -> None:
    data = room.client.get("/api/stats?since=2026-03-02").get_json()
    assert data["since"] == "2026-03-02T00:00:00Z"
    total = data["all"]
    assert (total["articles"], total["revised"]) == (1, 0)  # only "late" is new
    assert (total["revisions"], total["corrections"], total["reverts"]) == (2, 1, 1)
    assert total["seconds_to_first_revision"]["median"] is None
    assert total["revisions_per_day"] == [{"date": "2026-03-02", "revisions": 2}]


def test_feed_narrows_to_one_feed_and_an_unknown_one_is_404(room: Newsroom) -> None:
    client = room.client
    data = client.get("/api/stats?feed=world").get_json()
    assert [f["feed"] for f in data["feeds"]] == ["world"]
    assert data["all"]["articles"] == 2
    assert client.get("/api/stats?feed=nope").status_code == 404
    assert client.get("/api/stats?since=yesterday").status_code == 400


def test_stats_answers_conditional_requests(room: Newsroom) -> None:
    client = room.client
    for path in ("/stats", "/api/stats", "/stats/charts/revisions-per-day.svg"):
        first = client.get(path)
        assert first.status_code == 200
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path


def test_the_page_shows_the_figures_in_tables_and_the_charts_as_images(room: Newsroom) -> None:
    response = room.client.get("/stats")
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    rows = {
        row.findtext("th").strip(): [td.text_content().strip() for td in row.findall("td")]
        for row in doc.cssselect("table.stats")[0].cssselect("tbody tr")
    }
    assert rows["Articles followed"] == ["5", "3", "2"]
    assert rows["Revised at least once"] == ["2 (40%)", "1 (33%)", "1 (50%)"]
    assert rows["Median time to first revision"] == ["50 min", "20 min", "1 h 20 min"]
    assert rows["Headline changes"] == ["1", "1", "0"]
    images = [img.get("src") for img in doc.cssselect("figure.chart img")]
    assert len(images) == 3
    assert all(img.get("alt") for img in doc.cssselect("figure.chart img"))


@pytest.mark.parametrize("name", ["revisions-per-day", "time-to-first-revision", "change-classes"])
def test_each_chart_is_a_standalone_svg_without_script(room: Newsroom, name: str) -> None:
    client = room.client
    first = client.get(f"/stats/charts/{name}.svg")
    assert first.status_code == 200
    assert first.mimetype == "image/svg+xml"
    svg = lxml.etree.fromstring(first.get_data())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("viewBox") == "0 0 800 420"
    assert not svg.findall(".//{http://www.w3.org/2000/svg}script")
    legend = " ".join(svg.itertext())
    assert "city" in legend or "append" in legend


def test_an_unknown_chart_is_404(room: Newsroom) -> None:
    assert room.client.get("/stats/charts/pie.svg").status_code == 404


def stats_cli(room: Newsroom, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feedsvc", "stats", "--config", str(room.settings.path)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=cli_env(), timeout=60
    )


def test_feedsvc_stats_prints_the_same_table(room: Newsroom) -> None:
    result = stats_cli(room)
    assert result.returncode == 0, result.stderr
    lines = {line.split("  ")[0].strip(): line.split() for line in result.stdout.splitlines()}
    assert lines["Articles followed"][-3:] == ["5", "3", "2"]
    assert lines["Revisions"][-3:] == ["5", "3", "2"]
    assert lines["Corrections with a notice"][-3:] == ["1", "1", "0"]
    assert "Reverts" in result.stdout


def test_feedsvc_stats_refuses_a_bad_date_in_one_line(room: Newsroom) -> None:
    result = stats_cli(room, "--since", "last week")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--since" in result.stderr


# -- the pure fold -------------------------------------------------------------

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def article(feed: str, *minutes: int, status: str = "active", suspect: int = 0) -> ArticleFacts:
    versions = [
        VersionFacts(n + 1, T0 + timedelta(minutes=m), "Title", "edit", n + 1 == suspect)
        for n, m in enumerate(minutes)
    ]
    return ArticleFacts(feed, T0, status, tuple(versions))


def test_a_suspect_version_is_not_a_revision() -> None:
    stats = compute([article("city", 0, 10, 30, suspect=2)], ["city"])
    assert stats.total.revisions == 1
    assert stats.total.first_revision_delays == [1800]


def test_pages_gone_are_counted() -> None:
    stats = compute([article("city", 0, status="gone"), article("city", 0)], ["city"])
    assert stats.total.pages_gone == 1


def test_a_feed_no_longer_configured_is_left_out() -> None:
    stats = compute([article("old", 0, 5), article("city", 0)], ["city"])
    assert stats.total.articles == 1


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (None, 45, 720, 3600, 4800, 86400, 2 * 86400 + 3 * 3600)] == [
        "-",
        "45 s",
        "12 min",
        "1 h",
        "1 h 20 min",
        "1 day",
        "2 days 3 h",
    ]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 90) == 9
    assert percentile(values, 50) == 5
    assert percentile([7.0], 90) == 7
    assert percentile([], 90) is None
