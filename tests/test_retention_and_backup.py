"""Retention and backups: `feedsvc prune` deletes raw evidence past
`[storage] keep_raw` but never a version's text (nor the raw of an
article's latest version); `feedsvc backup PATH` copies a SQLite database
consistently while versions are being written, and the copy restores: the
service started on it serves what was there."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from feedsvc import config
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app
from tests.harness import cli_env, write_config
from tests.newsroom import BRIDGE, Newsroom


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    # backup is SQLite's online backup API; PostgreSQL's is pg_dump.
    return f"sqlite:///{tmp_path}/feedsvc.db"


def feedsvc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def raw_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM raws").fetchone()[0])


def test_prune_deletes_old_raws_but_never_a_version(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    room = Newsroom(tmp_path, make_settings, store_for, clock)
    article = room.publish("bridge", BRIDGE[:3])
    room.poll()  # nothing changed: no new version and no new raw
    db = tmp_path / "feedsvc.db"
    assert raw_count(db) == 3
    texts = [room.store.get_version(article.id, n).text for n in (1, 2, 3)]
    cfg = room.settings.path
    assert cfg is not None
    cfg.write_text(cfg.read_text() + '\n[storage]\nkeep_raw = "1s"\n')
    time.sleep(1.5)

    done = feedsvc("prune", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pruned 2 raw responses"
    assert raw_count(db) == 1  # the latest version's raw stays
    store = Store(room.settings.service.database)
    try:
        assert [store.get_version(article.id, n).text for n in (1, 2, 3)] == texts
        client = create_app(room.settings, store).test_client()
        assert client.get(f"/articles/{article.id}/diff/1...3").status_code == 200
    finally:
        store.close()
    reextract = feedsvc("reextract", "--config", str(cfg))
    assert reextract.returncode == 0, reextract.stderr


def test_prune_keeps_everything_by_default(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    room = Newsroom(tmp_path, make_settings, store_for, clock)
    room.publish("bridge", BRIDGE[:2])
    done = feedsvc("prune", "--config", str(room.settings.path))
    assert done.returncode == 0
    assert "keep_raw is not set" in done.stdout
    assert raw_count(tmp_path / "feedsvc.db") == 2


def test_a_backup_taken_while_versions_are_written_is_consistent_and_restores(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    room = Newsroom(tmp_path, make_settings, store_for, clock)
    room.publish("bridge", BRIDGE[:1])
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        # A second process's worth of writes: new stories, one version each.
        updater = Updater(room.settings, room.store, clock=clock)
        n = 0
        while not stop.is_set():
            n += 1
            room.write(f"story-{n}", f"Story {n}", f"What happened on day {n} of the closure.")
            clock.advance(60)
            updater.poll("writer", due_only=False)
            written[0] = n
        updater.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while written[0] < 3:
            assert thread.is_alive() and time.monotonic() < deadline, "the writer stopped"
            time.sleep(0.05)
        copy = tmp_path / "backup" / "feedsvc-copy.db"
        copy.parent.mkdir()
        done = feedsvc("backup", str(copy), "--config", str(room.settings.path))
    finally:
        stop.set()
        thread.join(60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backed up to {copy} (")

    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Every article's version count matches its latest number: no poll
        # is in the copy by halves.
        rows = conn.execute(
            "SELECT a.latest_version, count(v.id) FROM articles a "
            "JOIN versions v ON v.article_id = a.id GROUP BY a.id"
        ).fetchall()
    assert rows and all(latest == count for latest, count in rows)

    # Restore: the copy is the database of a service started on it.
    restored = write_config(
        tmp_path / "backup" / "config.toml",
        f'[service]\ndatabase = "sqlite:///{copy}"\nbase_url = "http://feeds.test"\n'
        f'[[feeds]]\nname = "city"\ntitle = "City News"\nsources = ["{tmp_path / "city"}"]\n',
    )
    history = feedsvc("history", "--config", str(restored), room.article("bridge").id)
    assert history.returncode == 0, history.stderr
    assert BRIDGE[0][0] in history.stdout
    settings = config.load(restored)
    store = Store(settings.service.database)
    try:
        client = create_app(settings, store).test_client()
        assert client.get("/api/feeds").get_json()["feeds"][0]["articles"] == len(rows)
        assert client.get("/feeds/city.atom").get_data(as_text=True).count("<entry>") == min(
            len(rows), 50
        )
    finally:
        store.close()


def test_backup_refuses_an_existing_file(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    room = Newsroom(tmp_path, make_settings, store_for, clock)
    (tmp_path / "taken.db").write_text("mine")
    done = feedsvc("backup", str(tmp_path / "taken.db"), "--config", str(room.settings.path))
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"feedsvc: error: {tmp_path / 'taken.db'} exists; back up to a new file"
    )


def test_the_scheduler_prunes_too(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    from feedsvc.scheduler import Scheduler

    room = Newsroom(tmp_path, make_settings, store_for, clock)
    room.publish("bridge", BRIDGE[:3])
    cfg = room.settings.path
    assert cfg is not None
    cfg.write_text(cfg.read_text() + '\n[storage]\nkeep_raw = "1s"\n')
    settings = config.load(cfg)
    time.sleep(1.5)
    scheduler = Scheduler(Updater(settings, room.store, clock=clock), room.store)
    try:
        assert scheduler.jobs.get_jobs()  # the hourly prune, beside the polls
        scheduler.prune()
    finally:
        scheduler.updater.close()
    assert raw_count(tmp_path / "feedsvc.db") == 1
