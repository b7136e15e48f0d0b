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
