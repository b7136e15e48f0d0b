"""Nothing is lost: a restart resumes the schedule from the database, and a
kill -9 in the middle of a large poll leaves every stored version whole."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feedsvc import config
from feedsvc.pool import poll_sources
from feedsvc.revisions import normalise
from feedsvc.storage import Store
from feedsvc.update import Updater
from tests.harness import cli_env

FEED = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Wire</title><link>http://wire.test/</link>
<description>d</description>
<item><title>Storm reaches the coast</title><link>http://wire.test/storm</link>
<guid>wire-storm-1</guid><description>Winds of 120 km/h were measured.</description></item>
</channel></rss>"""


def test_restart_resumes_schedule_and_validators_from_the_database(
    httpserver: HTTPServer, make_settings: Any, clock: Any
) -> None:
    seen: list[str | None] = []

    def handle(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"w1"':
            return Response(status=304, headers={"ETag": '"w1"'})
        return Response(FEED, content_type="application/rss+xml", headers={"ETag": '"w1"'})

    httpserver.expect_request("/rss").respond_with_handler(handle)
    settings = make_settings([{"name": "wire", "sources": [httpserver.url_for("/rss")]}])

    first = Store(settings.service.database)
    first.sync_sources(settings.feeds, clock())
    assert [
        o.new_versions for o in poll_sources(Updater(settings, first, clock=clock), "run-1")
    ] == [1]
    next_poll = first.list_sources()[0].next_poll_at
    first.close()

    # The service starts again a minute later: nothing is due yet.
    clock.advance(60)
    second = Store(settings.service.database)
    second.sync_sources(settings.feeds, clock())
    updater = Updater(settings, second, clock=clock)
    assert second.list_sources()[0].next_poll_at == next_poll
    assert poll_sources(updater, "run-2") == []
    assert seen == [None]

    # Once the stored time comes, it polls with the stored ETag: no duplicate.
    clock.now = next_poll
    [outcome] = poll_sources(updater, "run-2")
    assert outcome.not_modified
    assert seen == [None, '"w1"']
    article = second.find_article("wire-storm-1")
    assert [v.number for v in second.get_versions(article.id)] == [1]
    second.close()


def write_stories(folder: Path, count: int, prefix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"story-{i:04d}.txt").write_text(
            f"{prefix} story {i}\n\n" + f"Paragraph about item {i}. " * 40 + "\n\nMore to come.\n",
            encoding="utf-8",
        )


def test_feedsvc_run_restarts_without_repolling(tmp_path: Path) -> None:
    write_stories(tmp_path / "stories", 3, "Local")
    (tmp_path / "config.toml").write_text(
        '[service]\nlisten = "127.0.0.1:0"\n[scheduler]\ninterval = "1h"\ntick = "1s"\n'
        '[[feeds]]\nname = "local"\nsources = ["stories"]\n'
    )
    settings = config.load(tmp_path / "config.toml")

    def run_once(wait_for: str) -> str:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run"],
            cwd=tmp_path,
            env=cli_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if wait_for in line:
                break
        time.sleep(2)  # a few ticks: any wrong re-poll would happen now
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=90)
        assert proc.returncode == 0, "".join(lines) + rest
        return "".join(lines) + rest

    first = run_once("new versions")
    assert "3 new articles, 3 new versions" in first
    store = Store(settings.service.database)
    polled_at = store.list_sources()[0].last_polled_at
    store.close()

    second = run_once("serving on")
    assert "new versions" not in second
    assert "Traceback" not in second
    store = Store(settings.service.database)
    assert store.list_sources()[0].last_polled_at == polled_at
    assert store.count_articles("local") == 3
    store.close()


@pytest.mark.slow
def test_kill_9_during_a_large_poll_leaves_every_version_whole(tmp_path: Path) -> None:
    sources = 16
    per_source = 150
    for s in range(sources):
        write_stories(tmp_path / f"desk-{s:02d}", per_source, f"Desk {s}")
    names = ", ".join(f'"desk-{s:02d}"' for s in range(sources))
    (tmp_path / "config.toml").write_text(
        f"[scheduler]\nconcurrency = 2\nmax_new_articles = 1000\n"
        f'[[feeds]]\nname = "big"\nsources = [{names}]\n'
    )
    db = tmp_path / "feedsvc.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "poll"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                stored = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
        except sqlite3.Error:
            stored = 0
        if stored:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the poll finished before it could be killed; make it larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert 0 < stored < sources * per_source

    check_whole(tmp_path, db)
    total = sources * per_source
    with sqlite3.connect(db) as conn:
        after_kill = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
    assert after_kill < total

    # Restarted, the poll completes: every story exactly once.
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    check_whole(tmp_path, db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM versions").fetchone()[0] == total
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == total


def check_whole(folder: Path, db: Path) -> None:
    """The database is sound and each stored version is exactly its file."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = conn.execute(
            "SELECT a.key, a.latest_version, v.number, v.title, v.text "
            "FROM articles a JOIN versions v ON v.article_id = a.id"
        ).fetchall()
        per_article = conn.execute(
            "SELECT article_id, count(*), min(number), max(number) FROM versions "
            "GROUP BY article_id"
        ).fetchall()
        orphans = conn.execute(
            "SELECT count(*) FROM articles a WHERE a.latest_version > 0 AND NOT EXISTS "
            "(SELECT 1 FROM versions v WHERE v.article_id = a.id)"
        ).fetchone()[0]
    assert orphans == 0
    assert all(n == 1 and lo == 1 and hi == 1 for _, n, lo, hi in per_article)
    for key, latest, number, title, text in rows:
        lines = (folder / key).read_text(encoding="utf-8").split("\n", 1)
        assert (latest, number) == (1, 1)
        assert title == lines[0]
        assert text == normalise(lines[1])
