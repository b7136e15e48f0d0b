"""Benchmark: feed latency while slow clients read /api/export. Not a test.

    python bench/slow_exports.py [--requests 300] [--readers 8]

A real `feedsvc serve` (8 threads) over 14,000 versions (about 25 MB of
export, past waitress's 16 MB output buffer). For each setting of
`max_exports`, it measures p50/p99 of sequential GET /feeds/wire.atom with
no export running (the baseline of that same run), then again while
`--readers` raw sockets each request /api/export and read 1 KB a second.
max_exports = 8 stands for the server before the limit (every reader gets a
thread). Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.test_slow_clients import fill, free_port  # noqa: E402


def serve(folder: Path, max_exports: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    path = folder / "config.toml"
    path.write_text(
        f'[service]\nlisten = "127.0.0.1:{port}"\nbase_url = "http://127.0.0.1:{port}"\n'
        f'database = "sqlite:///feedsvc.db"\nthreads = 8\nmax_exports = {max_exports}\n'
        '[[feeds]]\nname = "wire"\nsources = ["wire"]\n'
    )
    if not (folder / "feedsvc.db").exists():
        (folder / "wire").mkdir(exist_ok=True)
        fill(path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "serve", "--config", str(path)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return child, base


def latencies(base: str, n: int, timeout: float = 5.0) -> tuple[list[float], int]:
    """Seconds per feed request, and how many failed (timed out). After
    three failures in a row the server is taken as starved and the rest
    count as failed without being sent."""
    out, failed, streak = [], 0, 0
    with httpx.Client(timeout=timeout) as client:
        for i in range(n + 1):  # the first renders the feed; not counted
            began = time.perf_counter()
            try:
                client.get(f"{base}/feeds/wire.atom").raise_for_status()
                streak = 0
                if i:
                    out.append(time.perf_counter() - began)
            except httpx.HTTPError:
                failed, streak = failed + 1, streak + 1
                out.append(timeout)
                if streak == 3:
                    out += [timeout] * (n - len(out))
                    return out, failed + n - i
    return out, failed


def slow_reader(base: str, stop: threading.Event) -> None:
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /api/export HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        while not stop.is_set():
            try:
                if not sock.recv(1024):
                    return  # answered (a 503) and closed
            except OSError:
                return
            stop.wait(1.0)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--readers", type=int, default=8)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print("| max_exports | readers | feed p50 ms | feed p99 ms | failed |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for max_exports in (2, 8):
            child, base = serve(folder, max_exports)
            try:
                quiet, failed = latencies(base, args.requests)
                print(f"| {max_exports} | 0 | {p(quiet, 50):.1f} | {p(quiet, 99):.1f} | {failed} |")
                stop = threading.Event()
                readers = [
                    threading.Thread(target=slow_reader, args=(base, stop), daemon=True)
                    for _ in range(args.readers)
                ]
                for reader in readers:
                    reader.start()
                time.sleep(5)  # every reader has its answer (or its 503), exports are blocked
                busy, failed = latencies(base, args.requests)
                print(
                    f"| {max_exports} | {args.readers} | {p(busy, 50):.1f} | "
                    f"{p(busy, 99):.1f} | {failed} |"
                )
                stop.set()
            finally:
                child.terminate()
                child.wait(30)


if __name__ == "__main__":
    main()
