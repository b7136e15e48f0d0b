"""Through the public interface: a real `feedsvc run` polling hostile pages
keeps serving, and a page that trips the parser's limits costs only its
own source."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.harness import cli_env

NEWS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Wire</title><link>http://127.0.0.1/</link>
<description>d</description>
<item><title>Storm reaches the coast</title><link>http://127.0.0.1/storm</link>
<guid>wire-storm-1</guid><description>Winds of 120 km/h were measured.</description></item>
</channel></rss>"""
# The page that froze the whole process: a regex quadratic on "<" with no ">".
FREEZE = b"<html><head><title>Freeze</title></head><body>" + b"<a " * 300000
# A page trafilatura needs far longer than parse_timeout for, on any machine:
# about 8 MB (under max_bytes) of paragraphs, some 10 s of parsing on a fast one.
LONG = (
    "<html><head><title>Long read</title></head><body><article>"
    + "".join(
        f"<p>Paragraph {i} of the long story about the harbour bridge and its cables.</p>"
        for i in range(100000)
    )
    + "</article></body></html>"
).encode()


class Service:
    """`feedsvc run` in a subprocess, its log collected by a thread."""

    def __init__(self, folder: Path, port: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run"],
            cwd=folder,
            env=cli_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.port = port
        self.serving = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if "serving on" in line:
                self.serving = True

    def get(self, path: str, timeout: float) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
            return r.read()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        return self.proc.returncode


@pytest.mark.slow
def test_feedsvc_run_keeps_answering_while_hostile_pages_are_polled(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    httpserver.expect_request("/news.rss").respond_with_data(
        NEWS, content_type="application/rss+xml"
    )
    httpserver.expect_request("/freeze.html").respond_with_data(FREEZE, content_type="text/html")
    httpserver.expect_request("/long.html").respond_with_data(LONG, content_type="text/html")
    (tmp_path / "config.toml").write_text(
        f'[service]\nlisten = "127.0.0.1:{port}"\n'
        '[scheduler]\ninterval = "1h"\ntick = "1s"\n'
        '[fetch]\nparse_timeout = "2s"\n'
        f'[[feeds]]\nname = "news"\nsources = ["{httpserver.url_for("/news.rss")}"]\n'
        f'[[feeds]]\nname = "pages"\nsources = ["{httpserver.url_for("/freeze.html")}", '
        f'"{httpserver.url_for("/long.html")}"]\n'
    )
    service = Service(tmp_path, port)
    try:
        deadline = time.monotonic() + 60
        while not service.serving and time.monotonic() < deadline:
            assert service.proc.poll() is None, "".join(service.lines)
            time.sleep(0.1)
        assert service.serving, "".join(service.lines)
        while True:  # the log line comes before waitress listens: wait for it
            try:
                service.get("/healthz", timeout=2)
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "".join(service.lines)
                time.sleep(0.2)

        slowest = 0.0
        health: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            started = time.monotonic()
            health = json.loads(service.get("/healthz", timeout=2))  # raises past 2 s
            slowest = max(slowest, time.monotonic() - started)
            failing = {f["source"]: f["last_error"] for f in health["failing"]}
            if httpserver.url_for("/long.html") in failing and b"Storm" in service.get(
                "/feeds/news.atom", timeout=2
            ):
                break
            time.sleep(0.25)
        else:
            raise AssertionError(f"the polls did not finish: {health}\n{''.join(service.lines)}")

        assert slowest < 2
        # The long page cost its own source, with the reason.
        assert failing == {
            httpserver.url_for("/long.html"): (
                f"{httpserver.url_for('/long.html')}: parsing took longer than 2s; stopped"
            )
        }
        # The freeze page was read like any page; the feed is served.
        assert len(httpserver.log) >= 3
        assert b"Storm reaches the coast" in service.get("/feeds/news.atom", timeout=2)
        assert service.proc.poll() is None
    finally:
        code = service.stop()
    log = "".join(service.lines)
    assert code == 0, log
    assert "Traceback" not in log
