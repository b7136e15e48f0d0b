"""Revision history (feedsvc.history), the one rule every surface follows:
the published versions of an article are the ones not marked suspect, its
latest is the last of them, each follows the published one before it, and
a diff goes from an older version to a newer one.

The story: the Harbour bridge article in two versions, then a third that
the extraction guard stored as suspect (a paywall page with its own
headline). Its headline must show up nowhere a reader looks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner

from feedsvc import history
from feedsvc.cli import main
from feedsvc.models import VersionIntent, VersionRow
from tests.newsroom import VERSIONS, Newsroom
from tests.stories import make_site

PAYWALL = "Subscribe to keep reading the Courier"


@pytest.fixture
def story(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    site = make_site(tmp_path, make_settings, store_for, clock, versions=2)
    row = site.article()
    site.clock.advance(600)
    text = "Subscribers read on. Sign in or subscribe to keep reading."
    site.store.add_version(
        row.feed,
        row.key,
        VersionIntent(
            title=PAYWALL,
            text=text,
            html=f"<p>{text}</p>",
            sha256="0" * 64,
            words=10,
            words_added=10,
            words_removed=60,
            change_class="deletion",
            suspect=True,
        ),
        site.clock(),
    )
    assert [(v.number, v.suspect) for v in site.store.get_versions(row.id)] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    return site


def cli(site: Newsroom, *args: str) -> str:
    assert site.settings.path is not None
    result = CliRunner().invoke(main, [*args, "--config", str(site.settings.path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_api_answers_400_to_a_reversed_range(story: Newsroom) -> None:
    aid = story.article().id
    response = story.client.get(f"/api/articles/{aid}/diff?from=2&to=1")
    assert response.status_code == 400
    assert "FROM must be older than TO" in response.get_json()["error"]


def test_the_cli_refuses_a_reversed_range_in_one_line(story: Newsroom) -> None:
    assert story.settings.path is not None
    result = CliRunner().invoke(
        main, ["diff", story.article().id, "2", "1", "--config", str(story.settings.path)]
    )
    assert result.exit_code != 0
    assert "FROM must be older than TO" in result.output
    assert result.output.count("\n") == 1


def test_the_api_never_shows_a_suspect_latest_headline(story: Newsroom) -> None:
    aid = story.article().id
    article = story.client.get(f"/api/articles/{aid}").get_json()
    assert article["title"] == VERSIONS[1][0]
    # The version list keeps the suspect one as evidence, marked.
    assert [(v["number"], v["suspect"]) for v in article["versions"]][-1] == (3, True)
    listed = story.client.get("/api/feeds/city/articles").get_json()
    assert [a["title"] for a in listed["articles"]] == [VERSIONS[1][0]]
    diff = story.client.get(f"/api/articles/{aid}/diff").get_data(as_text=True)
    assert PAYWALL not in diff  # the default diff: the last two published versions


def test_the_cli_never_shows_a_suspect_latest_headline(story: Newsroom) -> None:
    aid = story.article().id
    shown = cli(story, "history", aid)
    assert shown.startswith(f"{aid}  {VERSIONS[1][0]}\n")
    assert "(suspect)" in shown
    assert PAYWALL not in shown
    assert PAYWALL not in cli(story, "diff", aid)


def test_the_pages_never_show_a_suspect_latest_headline(story: Newsroom) -> None:
    aid = story.article().id
    for path in ("/", f"/articles/{aid}"):
        response = story.client.get(path)
        assert response.status_code == 200
        assert PAYWALL not in response.get_data(as_text=True), path
    timeline = story.client.get(f"/articles/{aid}").get_data(as_text=True)
    assert f"<h1>{VERSIONS[1][0]}</h1>" in timeline


def test_the_feeds_never_show_a_suspect_latest_headline(story: Newsroom) -> None:
    aid = story.article().id
    for path in (
        "/feeds/city.atom",
        "/feeds/city.rss",
        "/feeds/city/revisions.atom",
        f"/articles/{aid}.atom",
    ):
        body = story.client.get(path).get_data(as_text=True)
        assert not feedparser.parse(body).bozo, path
        assert PAYWALL not in body, path
        assert VERSIONS[1][0] in body, path


def version(number: int, *, suspect: bool = False) -> VersionRow:
    return VersionRow(
        article_id="a1",
        number=number,
        seen_at=datetime(2026, 3, 2, 8, number, tzinfo=UTC),
        title=f"title {number}",
        sha256=str(number) * 64,
        words=100,
        words_added=1,
        words_removed=0,
        change_class="edit",
        revert_of=None,
        developing=False,
        suspect=suspect,
        author=None,
        raw_id=None,
    )


def test_a_suspect_version_is_nobodys_predecessor() -> None:
    versions = [version(1), version(2, suspect=True), version(3), version(4, suspect=True)]
    pairs = [(p.number if p else None, v.number) for p, v in history.revisions(versions)]
    assert pairs == [(None, 1), (1, 3)]
    latest = history.latest(versions)
    assert latest is not None and latest.number == 3
    assert history.latest_title(versions) == "title 3"
    assert history.latest([version(1, suspect=True)]) is None


def test_the_default_diff_is_the_last_two_published_versions() -> None:
    versions = [version(1), version(2, suspect=True), version(3), version(4, suspect=True)]
    assert history.diff_range(versions) == (1, 3)
    assert history.diff_range(versions, to_n=4) == (3, 4)
    assert history.diff_range(versions, 2, 4) == (2, 4)


@pytest.mark.parametrize(("from_n", "to_n"), [(2, 1), (2, 2), (0, 1), (1, 5)])
def test_a_range_that_is_no_diff_is_refused(from_n: int, to_n: int) -> None:
    versions = [version(1), version(2), version(3), version(4)]
    with pytest.raises(history.BadRange):
        history.diff_range(versions, from_n, to_n)
