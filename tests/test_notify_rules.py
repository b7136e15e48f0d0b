"""Which versions a target is told about: its feeds, classes,
min_words_changed, headline_only and include_first_version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc.config import NotifySettings
from feedsvc.notify.rules import VersionFacts, wants
from tests.harness import FakeClock
from tests.notifying import FERRIES, LEAD, MONTH, SECRET, Desk


def facts(**kw: Any) -> VersionFacts:
    base: dict[str, Any] = {
        "feed": "news",
        "number": 2,
        "change_class": "edit",
        "words_added": 3,
        "words_removed": 1,
        "headline_changed": False,
    }
    return VersionFacts(**{**base, **kw})


def test_by_default_every_change_but_a_first_version_is_told() -> None:
    target = NotifySettings("desk")
    assert wants(target, facts())
    assert wants(target, facts(change_class="revert"))
    assert not wants(target, facts(number=1, change_class="initial"))
    assert wants(
        NotifySettings("desk", classes=("initial", "edit")), facts(number=1, change_class="initial")
    )


def test_classes_feeds_and_suspect_versions() -> None:
    assert not wants(NotifySettings("desk", classes=("correction",)), facts(change_class="edit"))
    assert not wants(NotifySettings("desk", feeds=("sport",)), facts())
    assert wants(NotifySettings("desk", feeds=("sport", "news")), facts())
    assert not wants(NotifySettings("desk"), facts(suspect=True))


def test_min_words_changed_counts_added_and_removed_but_a_headline_always_counts() -> None:
    target = NotifySettings("desk", min_words_changed=5)
    assert not wants(target, facts(words_added=3, words_removed=1))
    assert wants(target, facts(words_added=3, words_removed=2))
    assert wants(target, facts(words_added=0, words_removed=0, headline_changed=True))


def test_headline_only() -> None:
    target = NotifySettings("desk", headline_only=True)
    assert not wants(target, facts(words_added=50))
    assert wants(target, facts(change_class="headline", headline_changed=True))
    assert wants(target, facts(change_class="edit", headline_changed=True))


@pytest.fixture
def desk(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[Desk]:
    hook = {"webhook": "http://127.0.0.1:9/hook", "secret": SECRET}
    d = Desk(
        tmp_path,
        db_url,
        clock,
        [
            {"name": "big", "min_words_changed": 10, **hook},
            {"name": "headlines", "headline_only": True, **hook},
            {"name": "new", "include_first_version": True, "classes": ["correction"], **hook},
        ],
    )
    yield d
    d.close()


def told(desk: Desk) -> list[tuple[str, int]]:
    return sorted((r.target, r.version) for r in desk.rows())


def test_an_append_below_min_words_changed_is_not_told(desk: Desk) -> None:
    desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES)
    desk.poll()
    desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES, "Buses too.")
    desk.poll()
    assert [v.change_class for v in desk.store.get_versions(desk.rows()[0].article_id)] == [
        "initial",
        "append",
    ]
    assert told(desk) == [("new", 1)]


def test_a_headline_change_is_told_to_headline_only(desk: Desk) -> None:
    desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES)
    desk.poll()
    desk.write("bridge", "Harbour bridge closed for a month", LEAD, FERRIES)
    desk.poll()
    # headline_only: told; min_words_changed 10: a headline change counts;
    # classes = ["correction"]: not told
    assert told(desk) == [("big", 2), ("headlines", 2), ("new", 1)]


def test_a_long_edit_is_told_to_min_words_but_not_headline_only(desk: Desk) -> None:
    desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES)
    desk.poll()
    desk.write("bridge", "Harbour bridge closed", LEAD, MONTH, FERRIES)
    desk.poll()
    assert told(desk) == [("big", 2), ("new", 1)]


def test_a_rolled_back_poll_leaves_no_message(desk: Desk) -> None:
    from sqlalchemy import select

    from feedsvc.storage.tables import outbox, versions

    desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES)
    desk.poll()

    def fail(*_: Any) -> None:
        raise RuntimeError("the poll's transaction fails after the outbox row")

    desk.store.version_hooks.append(fail)
    desk.write("bridge", "Harbour bridge closed for a month", LEAD, FERRIES)
    desk.clock.advance(60)
    [outcome] = desk.updater.poll("test", due_only=False)
    assert outcome.error
    with desk.store.engine.connect() as conn:
        assert conn.execute(select(versions.c.number)).scalars().all() == [1]
        assert conn.execute(select(outbox.c.version)).scalars().all() == [1]
