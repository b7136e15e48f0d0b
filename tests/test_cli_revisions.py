"""`feedsvc history` and `feedsvc diff`: revisions in the terminal, the
article named by its id or its URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from feedsvc.cli import main
from tests.stories import CORRECTION, MARKER, P3, P4, VERSIONS, Site, make_site


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    # The command line reads through the same Store methods the page tests
    # cover on both backends; SQLite alone keeps this file fast.
    return f"sqlite:///{tmp_path}/feedsvc.db"


@pytest.fixture
def story(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Site:
    return make_site(tmp_path, make_settings, store_for, clock, versions=5)


def run(site: Site, *args: str) -> Result:
    assert site.settings.path is not None
    return CliRunner().invoke(main, [*args, "--config", str(site.settings.path)])


def test_history_lists_every_version_with_its_class(story: Site) -> None:
    result = run(story, "history", story.article().id)
    assert result.exit_code == 0, result.output
    rows = [
        line.split()
        for line in result.output.splitlines()
        if line[:4].strip().isdigit() and line.startswith(" ")
    ]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r[6] for r in rows] == [c for _, _, c in VERSIONS]
    assert f"headline: {VERSIONS[2][0]}" in result.output


def test_history_marks_stealth_edits(story: Site) -> None:
    result = run(story, "history", story.article().id)
    flagged = [line.split()[0] for line in result.output.splitlines() if "(stealth)" in line]
    # Version 3 changed the headline with no notice; 5 carries a correction.
    assert "3" in flagged and "5" not in flagged


def test_history_finds_the_article_by_its_url_or_key(story: Site) -> None:
    result = run(story, "history", "stories/bridge.txt")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{story.article().id}  {VERSIONS[-1][0]}")


def test_unknown_article_is_one_line_and_status_1(story: Site) -> None:
    for command in ("history", "diff"):
        result = run(story, command, "https://nowhere.test/story")
        assert result.exit_code == 1
        assert result.output.count("\n") == 1
        assert "no article" in result.output and "Traceback" not in result.output


def test_diff_piped_is_a_unified_diff_of_the_last_two_versions(story: Site) -> None:
    result = run(story, "diff", story.article().id)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["--- version 4", "+++ version 5"]
    assert f"+{CORRECTION}" in lines


def test_diff_between_chosen_versions(story: Site) -> None:
    result = run(story, "diff", story.article().id, "1", "2")
    assert f"+{P3}" in result.output.splitlines()


def test_word_diff_marks_deleted_and_inserted_runs(story: Site) -> None:
    result = run(story, "diff", "--word", story.article().id, "3", "4")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("version 3 (")
    assert f"[-{MARKER}-]" in result.output
    assert f"{{+{P4}+}}" in result.output
    assert "[-Tuesday-] {+Monday+}" in result.output
    assert "(moved from paragraph 3)" in result.output


def test_word_diff_on_a_terminal_is_coloured(story: Site) -> None:
    result = run(story, "diff", "--color=always", story.article().id, "1", "2")
    assert "\x1b[32m" in result.output  # green insertion
    assert P3 in result.output
    assert "{+" not in result.output


def test_bad_version_range_is_one_line_and_status_1(story: Site) -> None:
    for args in (["2", "1"], ["3", "3"], ["1", "9"]):
        result = run(story, "diff", story.article().id, *args)
        assert result.exit_code == 1, args
        assert result.output.count("\n") == 1, result.output


def test_diff_of_a_one_version_article_says_so(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    site = make_site(tmp_path, make_settings, store_for, clock, versions=1)
    result = run(site, "diff", site.article().id)
    assert result.exit_code == 1
    assert (
        result.output
        == f"feedsvc: error: article {site.article().id} has only one version: nothing to diff yet\n"
    )
