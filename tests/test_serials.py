"""The per-request change lookup of web nodes (storage/serials.py): cheap
when nothing changed, never stale after a commit by anyone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc.storage.serials import RACY, SerialReader
from tests.conftest import FakeClock
from tests.serving import Newsroom


@pytest.fixture
def newsroom(make_settings: Any, tmp_path: Path, clock: FakeClock) -> Iterator[Newsroom]:
    room = Newsroom(make_settings, tmp_path, clock)
    room.write("bridge", "Harbour bridge closed")
    room.poll()
    yield room
    room.close()


def later() -> float:
    """A clock far enough ahead that every file on disk looks settled."""
    return time.time() + 10 * RACY


def test_a_commit_by_another_connection_is_read_at_once(newsroom: Newsroom) -> None:
    reader = SerialReader(newsroom.settings.service.database, clock=later)
    before, _ = reader.read("news")

    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")
    newsroom.poll()

    assert reader.read("news")[0] > before
    reader.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_unchanged_files_spare_the_query(newsroom: Newsroom) -> None:
    reader = SerialReader(newsroom.settings.service.database, clock=later)
    first = reader.read("news")

    again = [reader.read("news") for _ in range(5)]

    assert again == [first] * 5
    assert reader.queries == 1
    reader.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_freshly_written_files_are_not_trusted(newsroom: Newsroom) -> None:
    """Right after a write, mtimes are too coarse to prove nothing else
    happened in the same instant: every read asks the database."""
    reader = SerialReader(newsroom.settings.service.database)
    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")
    newsroom.poll()

    for _ in range(3):
        reader.read("news")

    assert reader.queries == 3
    reader.close()


def test_the_all_feeds_serial_grows_with_any_feed(newsroom: Newsroom) -> None:
    reader = SerialReader(newsroom.settings.service.database, clock=later)
    before, _ = reader.read(None)

    newsroom.write("ferries", "Ferries every ten minutes")
    newsroom.poll()

    assert reader.read(None)[0] > before
    reader.close()


def test_on_sqlite_without_a_wal_every_read_asks_the_database(tmp_path: Path) -> None:
    """A database out of WAL mode commits into its own file: with no WAL to
    vouch for it, nothing is taken on trust."""
    import sqlite3

    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE feed_state (feed TEXT PRIMARY KEY, serial INT, changed_at TEXT)")
        db.execute("INSERT INTO feed_state VALUES ('news', 1, '2026-03-01 09:00:00.000000')")
    reader = SerialReader(f"sqlite:///{path}", clock=later)
    assert reader.read("news")[0] == 1

    with sqlite3.connect(path) as db:
        db.execute("UPDATE feed_state SET serial = 2")

    assert reader.read("news")[0] == 2
    reader.close()
