"""Slow export readers cannot starve the server: eight clients that ask for
/api/export and then read next to nothing take at most `max_exports`
threads; the others are told 503 with Retry-After at once, and the feeds
keep being answered. A real `feedsvc serve` with raw sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert

from feedsvc import config
from feedsvc.storage import Store
from feedsvc.storage.tables import articles, versions
from tests.harness import cli_env

# Past waitress's 16 MB output buffer, so an export that is not read holds
# its thread instead of finishing into the buffer.
VERSIONS = 14_000
TEXT = "\n\n".join(
    " ".join(f"word{(p * 31 + i) % 97}" for i in range(40)) for p in range(5)
)  # about 1.5 KB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fill(config_path: Path) -> None:
    """Versions written straight to the tables: only their number matters."""
    settings = config.load(config_path)
    store = Store(settings.service.database)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    store.sync_sources(settings.feeds, start)
    source_id = store.list_sources("wire")[0].id
    with store.engine.begin() as conn:
        rows, vrows = [], []
        for n in range(VERSIONS // 2):
            aid, seen = f"{n:016x}", start + timedelta(minutes=n)
            rows.append(
                dict(id=aid, feed="wire", source_id=source_id, key=f"k{n}", url=None,
                     first_seen_at=seen, published_at=None, updated_at=seen, last_seen_at=seen,
                     latest_version=2, developing=False, status="active", unchanged_checks=0,
                     check_failures=0)
            )  # fmt: skip
            for v in (1, 2):
                vrows.append(
                    dict(article_id=aid, number=v, seen_at=seen, title=f"Story {n}",
                         text=f"{TEXT} {v}", html="", sha256=f"{n:032x}{v:032x}", words=200,
                         words_added=1, words_removed=0, change_class="initial",
                         revert_of=None, developing=False, suspect=False, author=None,
                         raw_id=None)
                )  # fmt: skip
        conn.execute(insert(articles), rows)
        conn.execute(insert(versions), vrows)
    store.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    (tmp_path / "wire").mkdir()
    path = tmp_path / "config.toml"
    path.write_text(
        f'[service]\nlisten = "127.0.0.1:{port}"\nbase_url = "http://127.0.0.1:{port}"\n'
        'database = "sqlite:///feedsvc.db"\nthreads = 4\nmax_exports = 2\n'
        '[[feeds]]\nname = "wire"\nsources = ["wire"]\n'
    )
    fill(path)
    child = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "serve", "--config", str(path)],
        env=cli_env(),
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        child.terminate()
        child.wait(30)


def slow_reader(base: str) -> tuple[socket.socket, bytes]:
    """Ask for the export, read its first kilobyte, then read no more."""
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"GET /api/export HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock, sock.recv(1024)


@pytest.mark.slow
def test_eight_slow_export_readers_leave_the_feeds_answering(server: str) -> None:
    readers = [slow_reader(server) for _ in range(8)]
    try:
        statuses = [first.split(b"\r\n", 1)[0] for _, first in readers]
        busy = [first for _, first in readers if b" 503 " in first.split(b"\r\n", 1)[0]]
        assert len(busy) >= 6, statuses
        assert all(b"\r\nRetry-After: 30\r\n" in first for first in busy)
        assert sum(b" 200 " in s for s in statuses) <= 2
        with httpx.Client(timeout=10) as client:
            for _ in range(20):
                response = client.get(f"{server}/feeds/wire.atom")
                assert response.status_code == 200
                assert response.text.count("<entry>") == 50
    finally:
        for sock, _ in readers:
            sock.close()
