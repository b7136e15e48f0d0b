"""A real feed reader: Newsboat (from Debian) subscribed to a served feed
shows an updated article as the same item with new content, never as a
duplicate. (Debian's Newsboat 2.21 sends no conditional requests, so the
304 path is covered by tests/test_http_caching.py, not here.)"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.harness import FakeClock
from tests.newsroom import Newsroom

pytestmark = pytest.mark.skipif(
    shutil.which("newsboat") is None, reason="newsboat is not installed (apt-get install newsboat)"
)


class Served:
    """The app on a real socket, recording the status and content coding
    of every answer."""

    def __init__(self, app: Any) -> None:
        self.answers: list[tuple[int, str | None]] = []

        def recording(
            environ: dict[str, Any], start_response: Callable[..., Any]
        ) -> Iterable[bytes]:
            def start(status: str, headers: Any, *exc: Any) -> Any:
                coding = dict(headers).get("Content-Encoding")
                self.answers.append((int(status.split()[0]), coding))
                return start_response(status, headers, *exc)

            return app(environ, start)  # type: ignore[no-any-return]

        self.server = make_server("127.0.0.1", 0, recording, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()


class Newsboat:
    def __init__(self, home: Path, feed_url: str) -> None:
        home.mkdir()
        self.home = home
        self.urls = home / "urls"
        self.urls.write_text(feed_url + "\n")
        self.config = home / "config"
        self.config.write_text("")
        self.cache = home / "cache.db"

    def reload(self) -> None:
        done = subprocess.run(
            [
                *("newsboat", "-u", str(self.urls), "-C", str(self.config)),
                *("-c", str(self.cache), "-x", "reload"),
            ],
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def items(self) -> list[tuple[str, str, str]]:
        with sqlite3.connect(self.cache) as db:
            return list(db.execute("SELECT guid, title, content FROM rss_item ORDER BY id"))


@pytest.fixture
def newsroom(
    make_settings: Any, store_for: Any, tmp_path: Path, clock: FakeClock
) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path, make_settings, store_for, clock, ("news",))
    yield room
    room.close()


@pytest.fixture
def served(newsroom: Newsroom) -> Iterator[Served]:
    server = Served(newsroom.app)
    yield server
    server.close()


def test_newsboat_shows_an_updated_article_as_one_updated_item(
    newsroom: Newsroom, served: Served, tmp_path: Path
) -> None:
    reader = Newsboat(tmp_path / "newsboat", f"{served.url}/feeds/news.atom")
    newsroom.write("bridge", "Harbour bridge closed", "Cracks found.", "More details to follow.")
    newsroom.poll()
    reader.reload()
    [(guid, title, content)] = reader.items()
    assert title == "Harbour bridge closed"

    newsroom.write(
        "bridge", "Harbour bridge closed", "Cracks found.", "Ferries run every ten minutes."
    )
    newsroom.poll()
    reader.reload()

    [(guid_after, title_after, content_after)] = reader.items()
    assert guid_after == guid
    assert title_after == "Harbour bridge closed"
    assert "Ferries run every ten minutes." in content_after
    assert "Ferries" not in content
    assert "Version 2" in content_after  # the update history inside the entry


def test_newsboat_gets_the_feed_compressed_and_keeps_one_item_per_article(
    newsroom: Newsroom, served: Served, tmp_path: Path
) -> None:
    reader = Newsboat(tmp_path / "newsboat", f"{served.url}/feeds/news.atom")
    newsroom.write("bridge", "Harbour bridge closed")
    newsroom.write("ferries", "Ferries every ten minutes")
    newsroom.poll()

    reader.reload()
    reader.reload()

    assert served.answers == [(200, "gzip"), (200, "gzip")]  # it asks for gzip, deflate
    assert sorted(title for _, title, _ in reader.items()) == [
        "Ferries every ten minutes",
        "Harbour bridge closed",
    ]
