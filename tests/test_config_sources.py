"""A source that is the service itself, or not http(s) or a path, is
refused by `feedsvc poll` in one line with exit status 2: polling yourself
feeds your own output back in as news and, across processes, loops."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import cli_env

SERVICE = '[service]\nbase_url = "https://news.example.org/feedsvc"\nlisten = "0.0.0.0:8080"\n'

REFUSED = {
    "own base_url": (
        "https://news.example.org/feedsvc/feeds/a.atom",
        "this service's own base_url",
    ),
    "own base_url, explicit port": (
        "https://NEWS.example.org:443/feedsvc/feeds/a.atom",
        "this service's own base_url",
    ),
    "listen address": ("http://127.0.0.1:8080/feeds/a.atom", "listens on (0.0.0.0:8080)"),
    "listen address by name": ("http://localhost:8080/", "listens on (0.0.0.0:8080)"),
    "listen address, IPv6": ("http://[::1]:8080/feeds/a.atom", "listens on (0.0.0.0:8080)"),
    "file URL": ("file:///etc/passwd", "only http(s) URLs and local paths are sources"),
    "ftp URL": ("ftp://ftp.example.org/feed.xml", "only http(s) URLs and local paths are sources"),
    "javascript URL": ("javascript:alert(1)", "only http(s) URLs and local paths are sources"),
    "no host": ("http:///feed.xml", "is not a valid URL"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_source_pointing_at_the_service_or_off_http_is_refused(tmp_path: Path, case: str) -> None:
    source, expected = REFUSED[case]
    (tmp_path / "config.toml").write_text(
        SERVICE + f'[[feeds]]\nname = "news"\nsources = ["{source}"]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("feedsvc: error: config.toml: feeds[0].sources: ")
    assert expected in line


@pytest.mark.parametrize(
    "source",
    [
        "https://news.example.org/other/feed.xml",  # same host, outside base_url's path
        "http://127.0.0.1:8081/feed.xml",  # another port on this machine
        "https://elsewhere.example.org/feedsvc/feeds/a.atom",
    ],
)
def test_neighbours_of_the_service_are_accepted(tmp_path: Path, source: str) -> None:
    from feedsvc import config

    (tmp_path / "config.toml").write_text(
        SERVICE + f'[[feeds]]\nname = "news"\nsources = ["{source}"]\n'
    )
    assert config.load(tmp_path / "config.toml").feeds[0].sources == (source,)
