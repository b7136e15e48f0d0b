"""How many polls a second `feedsvc worker` processes get through on
PostgreSQL, and whether a second worker adds to it.

200 sources on a local threaded HTTP server that answers 304 to a matching
ETag (as most real polls are). For 1 and 2 workers: the time until every
source was polled once (the first round stores 200 new articles), then the
polls per second over --seconds with an interval so short that the workers
are never idle (saturated).

    FEEDSVC_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        python bench/workers.py [--seconds 15]

Nothing here is asserted: tests/test_workers.py holds the behaviour.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from werkzeug import Request, Response
from werkzeug.serving import WSGIRequestHandler, make_server


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


ROOT = Path(__file__).resolve().parent.parent


class Upstream:
    def __init__(self) -> None:
        self.count = 0
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.count += 1
            self.seen.add(request.path)
        body = (
            "<?xml version='1.0'?><rss version='2.0'><channel><title>Desk</title><item>"
            f"<guid>{request.path}</guid><title>Story at {request.path}</title>"
            "<description>" + "A paragraph of news. " * 30 + "</description></item></channel></rss>"
        ).encode()
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})(environ, start_response)
        headers = {"ETag": etag}
        return Response(body, content_type="application/rss+xml", headers=headers)(
            environ, start_response
        )


def run(workers: int, seconds: float, base: str) -> tuple[float, float]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    upstream = Upstream()
    port = upstream.server.server_port
    folder = Path(tempfile.mkdtemp())
    sources = ", ".join(f'"http://127.0.0.1:{port}/s/{n}.xml"' for n in range(200))
    (folder / "config.toml").write_text(
        f'[service]\ndatabase = "{base}?options=-csearch_path%3D{schema}"\n'
        "[scheduler]\ninterval = 1\ntick = 0.2\nconcurrency = 4\nper_host = 8\n"
        f'[[feeds]]\nname = "bench"\nsources = [{sources}]\n'
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "worker", "--config", str(folder / "config.toml")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        started = time.monotonic()
        while len(upstream.seen) < 200:
            time.sleep(0.02)
        first_round = time.monotonic() - started
        count, at = upstream.count, time.monotonic()
        time.sleep(seconds)
        rate = (upstream.count - count) / (time.monotonic() - at)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        upstream.server.shutdown()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return first_round, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    base = os.environ.get("FEEDSVC_TEST_DATABASE_URL")
    if not base:
        sys.exit("set FEEDSVC_TEST_DATABASE_URL to a PostgreSQL database")
    print("| workers | first round, 200 sources (s) | saturated polls/s (mostly 304) |")
    print("| ---: | ---: | ---: |")
    for workers in (1, 2):
        first, rate = run(workers, args.seconds, base)
        print(f"| {workers} | {first:.1f} | {rate:.0f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
