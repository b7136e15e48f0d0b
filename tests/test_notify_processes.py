"""Delivery across processes: a worker killed with -9 between sending and
recording sends the message again after a restart, with the same webhook id;
two workers sharing PostgreSQL deliver each message once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.harness import PG_ENV, PG_SKIP, cli_env, pg_schema_url
from tests.notifying import FERRIES, LEAD, SECRET, Received, Receiver, toml_config


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "worker", "--config", str(config)],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def write_articles(folder: Path, count: int) -> None:
    folder.mkdir(exist_ok=True)
    for n in range(count):
        (folder / f"story{n}.txt").write_text(
            f"Story number {n}\n\n{LEAD}\n\n{FERRIES} ({n})\n", encoding="utf-8"
        )


@pytest.mark.slow
def test_kill_9_between_send_and_record_sends_again_with_the_same_id(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 1)
    db = tmp_path / "feedsvc.db"
    config = tmp_path / "config.toml"
    target = {
        "name": "desk",
        "webhook": receiver.url + "/hook",
        "secret": SECRET,
        "include_first_version": True,
    }
    config.write_text(
        toml_config(
            f"sqlite:///{db}", folder, [target], scheduler={"tick": "0.2s", "interval": "1h"}
        )
    )
    log = tmp_path / "worker.log"
    worker = start_worker(config, log)

    def kill_worker(_: Received) -> tuple[int, dict[str, str]]:
        # The message has left the worker; it dies before hearing the answer.
        os.kill(worker.pid, signal.SIGKILL)
        return 200, {}

    receiver.script = [kill_worker]
    try:
        [first] = receiver.wait_for(1, timeout=60)
        assert worker.wait(30) == -signal.SIGKILL
        with sqlite3.connect(db) as conn:
            state, attempts, owner = conn.execute(
                "SELECT state, attempts, lease_owner FROM outbox"
            ).fetchone()
        assert (state, attempts) == ("pending", 0), "the send was never recorded"
        assert owner.split(":")[1] == str(worker.pid)

        worker = start_worker(config, log)
        second = receiver.wait_for(2, timeout=60)[1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sqlite3.connect(db) as conn:
                row = conn.execute("SELECT state, attempts, message_id FROM outbox").fetchone()
            if row[0] == "done":
                break
            time.sleep(0.1)
    finally:
        stop(worker)

    assert second.headers["Webhook-Id"] == first.headers["Webhook-Id"] == row[2]
    assert second.body == first.body
    assert row[:2] == ("done", 1)
    time.sleep(0.5)
    assert len(receiver.received) == 2, log.read_text()


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    schema, url = pg_schema_url(base)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_on_postgresql_deliver_each_message_once(
    tmp_path: Path, receiver: Receiver, pg_url: str
) -> None:
    count = 12
    folder = tmp_path / "articles"
    write_articles(folder, count)
    config = tmp_path / "config.toml"
    target = {
        "name": "desk",
        "webhook": receiver.url + "/hook",
        "secret": SECRET,
        "include_first_version": True,
    }
    config.write_text(
        toml_config(pg_url, folder, [target], scheduler={"tick": "0.2s", "interval": "1h"})
    )
    receiver.delay = 0.2  # sends overlap: both workers find messages due
    log = tmp_path / "workers.log"
    workers = [start_worker(config, log), start_worker(config, log)]
    try:
        receiver.wait_for(count, timeout=90)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with psycopg.connect(pg_url.replace("+psycopg", "")) as conn:
                rows = conn.execute("SELECT state, attempts, lease_owner FROM outbox").fetchall()
            if len(rows) == count and all(r[0] == "done" for r in rows):
                break
            time.sleep(0.2)
        time.sleep(1)  # a duplicate would arrive now
    finally:
        for w in workers:
            stop(w)

    ids = [r.headers["Webhook-Id"] for r in receiver.received]
    assert len(ids) == count and len(set(ids)) == count, log.read_text()
    assert sorted(rows) == [("done", 1, None)] * count
