"""`feedsvc export`: every version as JSON Lines on stdout, filtered by feed
and time; a bad argument is one line and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from feedsvc.export import parse_since
from tests.conftest import cli_env
from tests.newsroom import BRIDGE, Newsroom

FIELDS = {
    "article_id",
    "feed",
    "url",
    "version",
    "seen_at",
    "title",
    "text",
    "sha256",
    "change_class",
    "words_added",
    "words_removed",
    "suspect",
    "stealth",
}


@pytest.fixture
def newsroom(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    room = Newsroom(tmp_path, make_settings, store_for, clock, feeds=("city", "world"))
    room.publish("bridge", BRIDGE[:3])
    room.write("flood", "Flood warning", ["River levels are rising."])
    room.write("summit", "Summit ends without a deal", ["Talks broke up."], feed="world")
    room.poll()
    return room


def export(newsroom: Newsroom, *args: str) -> subprocess.CompletedProcess[str]:
    assert newsroom.settings.path is not None
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "export", "--config", str(newsroom.settings.path), *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_export_writes_every_version_once_with_its_fields(newsroom: Newsroom) -> None:
    records = lines(export(newsroom))
    bridge, flood = newsroom.article("bridge"), newsroom.article("flood")
    summit = newsroom.article("summit", feed="world")
    assert sorted((r["article_id"], r["version"]) for r in records) == sorted(
        [(bridge.id, 1), (bridge.id, 2), (bridge.id, 3), (flood.id, 1), (summit.id, 1)]
    )
    assert all(set(r) == FIELDS for r in records)
    second = newsroom.store.get_version(bridge.id, 2)
    assert records[1] == {
        "article_id": bridge.id,
        "feed": "city",
        "url": None,
        "version": 2,
        "seen_at": second.seen_at.isoformat().replace("+00:00", "Z"),
        "title": second.title,
        "text": second.text,
        "sha256": second.sha256,
        "change_class": "append",
        "words_added": second.words_added,
        "words_removed": 0,
        "suspect": False,
        "stealth": False,
    }


def test_export_filters_by_feed(newsroom: Newsroom) -> None:
    assert [r["title"] for r in lines(export(newsroom, "--feed", "world"))] == [
        "Summit ends without a deal"
    ]


def test_export_since_keeps_versions_seen_at_or_after(newsroom: Newsroom) -> None:
    bridge = newsroom.article("bridge")
    third = newsroom.store.get_version(bridge.id, 3).seen_at
    records = lines(export(newsroom, "--since", third.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert sorted((r["title"], r["version"]) for r in records) == [
        ("Flood warning", 1),
        ("Harbour bridge to stay shut for a month", 3),
        ("Summit ends without a deal", 1),
    ]
    later = (third + timedelta(days=1)).strftime("%Y-%m-%d")
    assert lines(export(newsroom, "--since", later)) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last tuesday"], "--since: 'last tuesday' is not a date or time"),
        (["--feed", "nope"], "no feed named 'nope'"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(
    newsroom: Newsroom, args: list[str], message: str
) -> None:
    result = export(newsroom, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("feedsvc: error: ") and message in line


def test_since_takes_dates_and_times_in_any_zone() -> None:
    assert parse_since("2026-03-01") == parse_since("2026-03-01T00:00:00Z")
    assert parse_since("2026-03-01T11:00+02:00") == parse_since("2026-03-01 09:00:00")
    with pytest.raises(ValueError, match="not a date or time"):
        parse_since("2026-13-01")


def test_a_database_error_is_one_line_not_a_traceback(newsroom: Newsroom) -> None:
    from sqlalchemy import text

    with newsroom.store.engine.begin() as conn:  # what a botched manual fix-up might do
        conn.execute(text("ALTER TABLE versions RENAME TO versions_old"))
    result = export(newsroom)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("feedsvc: error: export stopped: ") and "versions" in line
