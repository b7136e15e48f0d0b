"""Production serving: `feedsvc serve` (waitress) and several gunicorn
processes, each with its own render cache, all serving a change made by
another process from the next request on."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import cli_env

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_site(tmp_path: Path, port: int) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "bridge.txt").write_text("Harbour bridge closed\n\nCracks found.\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[service]\nbase_url = "http://127.0.0.1:{port}"\nlisten = "127.0.0.1:{port}"\n'
        f'database = "sqlite:///{tmp_path}/feedsvc.db"\n'
        f'[[feeds]]\nname = "news"\nsources = ["{folder}"]\n'
    )
    return config


def poll(config: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "poll", "--config", str(config)],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read())


def wait_for(url: str, proc: subprocess.Popen[str]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def stop() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_feedsvc_serve_serves_what_a_worker_polls(
    tmp_path: Path, stop: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    config = write_site(tmp_path, port)
    poll(config)
    server = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "serve", "--config", str(config)],
        env=cli_env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    stop.append(server)
    url = f"http://127.0.0.1:{port}/feeds/news.atom"
    wait_for(url, server)
    assert b"Harbour bridge closed" in fetch(url)

    (tmp_path / "articles" / "bridge.txt").write_text("Harbour bridge reopens\n\nFixed.\n")
    poll(config)

    assert b"Harbour bridge reopens" in fetch(url)


@pytest.mark.skipif(shutil.which("gunicorn") is None, reason="gunicorn is not installed")
def test_several_gunicorn_processes_all_serve_the_new_version(
    tmp_path: Path, stop: list[subprocess.Popen[str]]
) -> None:
    config = write_site(tmp_path, 8080)  # base_url only; gunicorn picks the port
    poll(config)
    server = subprocess.Popen(
        ["gunicorn", "-w", "3", "-b", "127.0.0.1:0", "feedsvc.web.wsgi:make_app()"],
        env=cli_env(FEEDSVC_CONFIG=str(config)),
        stderr=subprocess.PIPE,
        text=True,
    )
    stop.append(server)
    assert server.stderr is not None
    port = None
    for line in server.stderr:
        if m := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
            port = int(m.group(1))
            break
    assert port, "gunicorn did not start"
    url = f"http://127.0.0.1:{port}/feeds/news.atom"
    wait_for(url, server)
    # Enough requests that every worker has rendered and cached the feed.
    assert all(b"Harbour bridge closed" in fetch(url) for _ in range(20))

    (tmp_path / "articles" / "bridge.txt").write_text("Harbour bridge reopens\n\nFixed.\n")
    poll(config)

    assert all(b"Harbour bridge reopens" in fetch(url) for _ in range(20))


def start_gunicorn(
    config: Path, stop: list[subprocess.Popen[str]], **env: str
) -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        ["gunicorn", "-w", "3", "-b", "127.0.0.1:0", "feedsvc.web.wsgi:make_app()"],
        env=cli_env(FEEDSVC_CONFIG=str(config), **env),
        stderr=subprocess.PIPE,
        text=True,
    )
    stop.append(server)
    assert server.stderr is not None
    for line in server.stderr:
        if m := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
            return server, int(m.group(1))
    raise AssertionError("gunicorn did not start")


@pytest.mark.skipif(shutil.which("gunicorn") is None, reason="gunicorn is not installed")
def test_gunicorn_workers_add_up_their_request_counts_in_multiprocess_mode(
    tmp_path: Path, stop: list[subprocess.Popen[str]]
) -> None:
    config = write_site(tmp_path, 8080)
    poll(config)
    shared = tmp_path / "prometheus"
    shared.mkdir()
    server, port = start_gunicorn(config, stop, PROMETHEUS_MULTIPROC_DIR=str(shared))
    url = f"http://127.0.0.1:{port}/feeds/news.atom"
    wait_for(url, server)  # one answered request
    for _ in range(30):
        fetch(url)
    # Whichever worker answers the scrape, it reports all three's answers.
    for _ in range(6):
        families = text_string_to_metric_families(
            fetch(f"http://127.0.0.1:{port}/metrics").decode()
        )
        counts = {
            s.labels["code"]: s.value
            for f in families
            if f.name == "feedsvc_http_responses"
            for s in f.samples
        }
        assert counts == {"2xx": 31}


def test_a_bad_config_under_gunicorn_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[service]\nlisten = 'nowhere'\n")

    done = subprocess.run(
        [sys.executable, "-c", "from feedsvc.web.wsgi import make_app; make_app()"],
        env=cli_env(FEEDSVC_CONFIG=str(config)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "service.listen" in done.stderr
