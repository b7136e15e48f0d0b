"""Config reload in a real `feedsvc run`: a feed appended to config.toml is
served within seconds, after a plain save and after SIGHUP; a broken edit is
refused with one log line and the service keeps serving; a removed feed
stops being served while its articles keep their pages."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import cli_env

CONFIG = """\
# the night desk
[service]
listen = "127.0.0.1:{port}"
base_url = "http://127.0.0.1:{port}"

[[feeds]]
name = "city"
title = "City News"
sources = ["city"]
"""


def feed_toml(name: str) -> str:
    return f'\n[[feeds]]\nname = "{name}"\ntitle = "{name.title()} Desk"\nsources = ["{name}"]\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """A `feedsvc run` in tmp_path, its log collected as it comes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = root / "config.toml"
        self.log: list[str] = []
        for desk in ("city", "world", "sport"):
            (root / desk).mkdir()
            (root / desk / "lead.txt").write_text(
                f"{desk.title()} lead story\n\nThe {desk} desk filed its first report today.\n",
                encoding="utf-8",
            )
        self.config.write_text(CONFIG.format(port=self.port), encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run"],
            cwd=root,
            env=cli_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(lambda: self.get("/feeds/city.atom").status_code == 200, "city served")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def get(self, path: str) -> httpx.Response:
        try:
            return httpx.get(self.base + path, timeout=5)
        except httpx.HTTPError:
            return httpx.Response(599)

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 30) -> float:
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if check():
                return time.monotonic() - began
            assert self.proc.poll() is None, "".join(self.log)
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n" + "".join(self.log))

    def append(self, text: str) -> None:
        with self.config.open("a", encoding="utf-8") as out:
            out.write(text)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(90)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = Service(tmp_path)
    try:
        yield svc
    finally:
        svc.stop()


def served_with_entry(service: Service, feed: str) -> Callable[[], bool]:
    def check() -> bool:
        response = service.get(f"/feeds/{feed}.atom")
        return response.status_code == 200 and "lead story" in response.text

    return check


def test_a_feed_appended_to_the_file_is_served_after_a_plain_save(service: Service) -> None:
    assert service.get("/feeds/world.atom").status_code == 404
    service.append(feed_toml("world"))
    service.wait_for(served_with_entry(service, "world"), "world served", timeout=20)
    assert any("config reloaded" in line for line in service.log)
    assert service.get("/feeds/city.atom").status_code == 200


def test_a_feed_appended_is_served_after_sighup(service: Service) -> None:
    text = service.config.read_text(encoding="utf-8") + feed_toml("sport")
    # Keep size and mtime from giving it away: SIGHUP alone must do it.
    stat = service.config.stat()
    service.config.write_text(text, encoding="utf-8")
    os.utime(service.config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    service.proc.send_signal(signal.SIGHUP)
    service.wait_for(served_with_entry(service, "sport"), "sport served", timeout=20)
    assert any("config reloaded after SIGHUP" in line for line in service.log)


def test_a_broken_edit_is_refused_and_the_service_keeps_serving(service: Service) -> None:
    service.append('\n[[feeds]]\nname = "bad name!"\nsources = ["world"]\n')
    service.wait_for(
        lambda: any("config reload refused" in line for line in service.log), "the refusal"
    )
    refusals = [line for line in service.log if "config reload refused" in line]
    assert "feeds[1].name" in refusals[0]
    assert "Traceback" not in "".join(service.log)
    assert service.proc.poll() is None
    assert service.get("/feeds/city.atom").status_code == 200
    assert service.get("/healthz").status_code == 200


def test_a_removed_feed_stops_being_served_and_its_articles_keep_their_pages(
    service: Service,
) -> None:
    service.append(feed_toml("world"))
    service.wait_for(served_with_entry(service, "world"), "world served", timeout=20)
    articles = httpx.get(f"{service.base}/api/feeds/world/articles", timeout=5).json()
    article_id = articles["articles"][0]["id"]
    service.config.write_text(CONFIG.format(port=service.port), encoding="utf-8")
    service.wait_for(
        lambda: service.get("/feeds/world.atom").status_code == 404, "world no longer served"
    )
    assert service.get(f"/articles/{article_id}").status_code == 200
    assert service.get("/feeds/city.atom").status_code == 200


def test_a_notify_target_added_to_a_running_service_is_told_of_the_next_revision(
    service: Service,
) -> None:
    from tests.notifying import SECRET, Receiver

    receiver = Receiver()
    try:
        service.append(
            '\n[[feeds]]\nname = "world"\nsources = ["world"]\ninterval = "1s"\n'
            f'\n[[notify]]\nname = "desk"\nwebhook = "{receiver.url}/hook"\n'
            f'secret = "{SECRET}"\n'
        )
        service.wait_for(served_with_entry(service, "world"), "world served", timeout=20)
        (service.root / "world" / "lead.txt").write_text(
            "World lead story\n\nThe world desk filed its first report today.\n\n"
            "A second report followed in the evening, with the minister's reply.\n",
            encoding="utf-8",
        )
        [got] = receiver.wait_for(1, timeout=30)
    finally:
        receiver.close()
    event = got.json()["data"]
    assert event["version"]["number"] == 2
    assert event["article"]["feed"] == "world"
    assert "minister's reply" in got.body.decode()
