"""The per-request change lookup of web nodes (storage/serials.py): cheap
when nothing changed, never stale after a commit by anyone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc.storage.serials import SerialReader, WalIndex
from tests.harness import FakeClock
from tests.newsroom import Newsroom


@pytest.fixture
def newsroom(
    make_settings: Any, store_for: Any, tmp_path: Path, clock: FakeClock
) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path, make_settings, store_for, clock, ("news",))
    room.write("bridge", "Harbour bridge closed")
    room.poll()
    yield room
    room.close()


def test_a_commit_by_another_connection_is_read_at_once(newsroom: Newsroom) -> None:
    reader = SerialReader(newsroom.settings.service.database)
    before, _ = reader.read("news")

    newsroom.write("bridge", "Harbour bridge reopens", "Repairs took a week.")
    newsroom.poll()

    assert reader.read("news")[0] > before
    reader.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_unchanged_files_spare_the_query(newsroom: Newsroom) -> None:
    reader = SerialReader(newsroom.settings.service.database)
    reader.read("news")  # opens this thread's connection; the header is mapped after it
    first = reader.read("news")
    warm = reader.queries

    again = [reader.read("news") for _ in range(5)]

    assert again == [first] * 5
    assert reader.queries == warm
    reader.close()


def test_commits_in_quick_succession_are_each_seen(newsroom: Newsroom) -> None:
    reader = SerialReader(newsroom.settings.service.database)
    seen = [reader.read("news")[0]]
    for n in range(8):
        newsroom.write("bridge", f"Harbour bridge update {n}", f"Update number {n}.")
        newsroom.poll()
        seen.append(reader.read("news")[0])
    assert seen == sorted(set(seen)), seen  # each read saw the commit before it
    reader.close()


def wal_index_file(tmp_path: Path, first: bytes, second: bytes) -> WalIndex:
    path = tmp_path / "db-shm"
    path.write_bytes(first + second + bytes(32768 - 96))
    return WalIndex(str(path))


HEADER = bytes(12) + b"\x01" + bytes(35)  # isInit = 1, all else zero


def test_a_settled_wal_index_header_is_a_stamp(tmp_path: Path) -> None:
    index = wal_index_file(tmp_path, HEADER, HEADER)
    assert index.stamp() == HEADER
    index.close()


def test_a_header_caught_mid_write_vouches_for_nothing(tmp_path: Path) -> None:
    changed = HEADER[:16] + b"\x07" + HEADER[17:]  # mxFrame moved in one copy only
    index = wal_index_file(tmp_path, HEADER, changed)
    assert index.stamp() is None
    index.close()


def test_an_uninitialised_or_missing_header_vouches_for_nothing(tmp_path: Path) -> None:
    assert wal_index_file(tmp_path, bytes(48), bytes(48)).stamp() is None
    assert WalIndex(str(tmp_path / "absent-shm")).stamp() is None
    (tmp_path / "short-shm").write_bytes(HEADER)
    assert WalIndex(str(tmp_path / "short-shm")).stamp() is None


def test_the_all_feeds_serial_grows_with_any_feed(newsroom: Newsroom) -> None:
    reader = SerialReader(newsroom.settings.service.database)
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
    reader = SerialReader(f"sqlite:///{path}")
    assert reader.read("news")[0] == 1

    with sqlite3.connect(path) as db:
        db.execute("UPDATE feed_state SET serial = 2")

    assert reader.read("news")[0] == 2
    reader.close()
