"""Benchmark of feed serving: run it, read the table. Not a test.

    python bench/serve.py [--seconds 5] [--connections 8] [--threads 8]

Measures, on one waitress server on loopback (wrk from Debian as the load):
1. requests/s and p99 latency of /feeds/bench.atom (50 entries, ~3 KB of
   text each) for a full GET, a gzip GET and a conditional GET (304), each
   next to a baseline served by the same process in the same run: a minimal
   Flask route returning the same bytes, precomputed;
2. the cost of a cache miss: reading and rendering that 50-entry feed;
3. the memory of a web process over a database of 10,000 articles and
   50,000 versions, after serving feeds and pages from it.
Prints Markdown tables for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feedsvc import config  # noqa: E402
from feedsvc.pool import poll_sources  # noqa: E402
from feedsvc.storage import Store  # noqa: E402

PHRASE = (
    "engineers closed the harbour bridge to all traffic after an overnight inspection "
    "found cracks in a steel beam of the main span while ferries ran every ten minutes "
    "and buses were diverted over the river crossing at millbank until further notice"
)
WORDS = PHRASE.split()


def paragraph(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words)).capitalize() + "."


def article_text(seed: int, size: int) -> str:
    paragraphs, total, i = [], 0, 0
    while total < size:
        p = paragraph(seed + i, 40)
        paragraphs.append(p)
        total += len(p) + 2
        i += 1
    return "\n\n".join(paragraphs)


def write_config(folder: Path, db: Path, port: int, threads: int) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[service]\nbase_url = "http://127.0.0.1:{port}"\nlisten = "127.0.0.1:{port}"\n'
        f'database = "sqlite:///{db}"\nthreads = {threads}\n'
        f'[[feeds]]\nname = "bench"\ntitle = "Bench"\nsources = ["{folder / "articles"}"]\n'
    )
    return path


def feed_of_50(folder: Path) -> None:
    """50 articles of ~3 KB, each with two versions, polled for real."""
    from feedsvc.update import Updater

    articles = folder / "articles"
    articles.mkdir()
    for n in range(50):
        (articles / f"a{n:02}.txt").write_text(f"Story {n}\n\n{article_text(n, 3000)}\n")
    settings = config.load(folder / "config.toml")
    store = Store(settings.service.database)
    store.sync_sources(settings.feeds, datetime.now(UTC))
    updater = Updater(settings, store)
    poll_sources(updater, "bench", due_only=False)
    for n in range(0, 50, 2):
        path = articles / f"a{n:02}.txt"
        path.write_text(path.read_text() + "\nMore details to follow.\n")
    poll_sources(updater, "bench", due_only=False)
    updater.close()
    store.close()


def big_database(folder: Path, articles: int = 10_000, per_article: int = 5) -> None:
    """10,000 articles with 5 versions each, written straight to the tables
    (polling them would take minutes and measure ingest, not serving)."""
    from sqlalchemy import insert, update

    from feedsvc.storage.tables import articles as t_articles
    from feedsvc.storage.tables import feed_state, versions

    settings = config.load(folder / "config.toml")
    store = Store(settings.service.database)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    store.sync_sources(settings.feeds, now)
    source_id = store.list_sources("bench")[0].id
    text = article_text(1, 1500)
    html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    with store.engine.begin() as conn:
        for start in range(0, articles, 1000):
            rows, vrows = [], []
            for n in range(start, start + 1000):
                aid = hashlib.sha256(f"bench{n}".encode()).hexdigest()[:16]
                seen = now + timedelta(minutes=n)
                rows.append(
                    dict(id=aid, feed="bench", source_id=source_id, key=f"k{n}", url=None,
                         first_seen_at=seen, published_at=None, updated_at=seen,
                         last_seen_at=seen, latest_version=per_article, developing=False,
                         status="active", unchanged_checks=0, check_failures=0)
                )  # fmt: skip
                for v in range(1, per_article + 1):
                    vrows.append(
                        dict(article_id=aid, number=v, seen_at=seen, title=f"Story {n} v{v}",
                             text=f"{text} {v}", html=html, sha256=f"{n:032}{v:032}",
                             words=250, words_added=10, words_removed=2,
                             change_class="initial" if v == 1 else "append", revert_of=None,
                             developing=False, suspect=False, author=None, raw_id=None)
                    )  # fmt: skip
            conn.execute(insert(t_articles), rows)
            conn.execute(insert(versions), vrows)
        conn.execute(update(feed_state).where(feed_state.c.feed == "bench").values(serial=1))
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server process --------------------------------------------------------


def serve(config_path: str) -> None:
    """The app as `feedsvc serve` runs it, plus baseline routes returning
    the feed's bytes precomputed, in the same process."""
    import waitress
    from flask import Response

    from feedsvc.web import create_app

    settings = config.load(config_path)
    app = create_app(settings)
    pre: dict[str, Any] = {}

    @app.get("/baseline/full")
    def baseline_full() -> Response:
        return Response(pre["body"], content_type=pre["ctype"])

    @app.get("/baseline/gzip")
    def baseline_gzip() -> Response:
        return Response(
            pre["gz_body"], content_type=pre["ctype"], headers={"Content-Encoding": "gzip"}
        )

    @app.get("/baseline/304")
    def baseline_304() -> Response:
        return Response(status=304, headers={"ETag": pre["etag"]})

    client = app.test_client()
    full = client.get("/feeds/bench.atom")
    zipped = client.get("/feeds/bench.atom", headers={"Accept-Encoding": "gzip"})
    pre.update(
        body=full.data,
        gz_body=zipped.data,
        etag=full.headers["ETag"],
        ctype=full.headers["Content-Type"],
    )
    etag = pre["etag"]

    host, port = settings.service.host_port
    print(f"ready {etag}", flush=True)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" noise
    waitress.serve(app, host=host, port=port, threads=settings.service.threads, _quiet=True)


# -- the driver ----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str], server: int
) -> tuple[float, float, float]:
    """(requests/s, p99 ms, server CPU µs per request). The last is what a
    shared machine disturbs least: other work steals wall time from the
    server, not CPU time spent per request."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cpu = cpu_seconds(server)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server) - cpu
    if "Non-2xx or 3xx" in out:
        raise SystemExit(f"errors from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, p99, cpu / max(done, 1) * 1e6


def start_server(config_path: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(config_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("ready "):
        raise SystemExit("the server did not start")
    return proc, line.split(" ", 1)[1].strip()


def wait_for(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} never answered")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cache_miss_ms(config_path: Path, rounds: int = 30) -> tuple[float, float, int]:
    """(median, worst) ms to read and render the 50-entry feed, and its size."""
    from feedsvc.links import Links
    from feedsvc.render import PageLinks, feed_atom

    settings = config.load(config_path)
    store = Store(settings.service.database)
    links = Links(settings.service.base_url)
    times, size = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        views, _more = store.get_feed_page("bench", 50)
        page = PageLinks(links.feed("bench"), links.feed("bench"))
        size = len(feed_atom("bench", "Bench", views, links, page=page))
        times.append((time.perf_counter() - t0) * 1000)
    store.close()
    return statistics.median(times), max(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=4, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="alternating feed/baseline runs")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}, "
          f"Python {platform.python_version()}, load average at start "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"command: python bench/serve.py --seconds {args.seconds} --rounds {args.rounds} "
          f"--connections {args.connections} --threads {args.threads}\n")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        cfg = write_config(folder, folder / "feed.db", port, args.threads)
        feed_of_50(folder)
        proc, etag = start_server(cfg)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{base}/feeds/bench.atom")
            cases = [
                ("full GET", "full", {}),
                ("GET, gzip", "gzip", {"Accept-Encoding": "gzip"}),
                ("conditional GET (304)", "304", {"If-None-Match": etag}),
            ]
            print("| request | feed req/s | feed p99 ms | baseline req/s | baseline p99 ms "
                  "| req/s feed/baseline | server CPU µs/req feed / baseline |")  # fmt: skip
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for label, kind, headers in cases:
                # Alternate (and swap the order every round) and take medians:
                # the machine is shared, and a burst of someone else's work
                # should not decide the ratio.
                feed_url, base_url = f"{base}/feeds/bench.atom", f"{base}/baseline/{kind}"
                runs = []
                for n in range(args.rounds):
                    order = [feed_url, base_url] if n % 2 == 0 else [base_url, feed_url]
                    got = {
                        u: wrk(u, args.seconds, args.connections, headers, proc.pid) for u in order
                    }
                    runs.append((got[feed_url], got[base_url]))
                feed = [statistics.median(r[0][i] for r in runs) for i in range(3)]
                baseline = [statistics.median(r[1][i] for r in runs) for i in range(3)]
                ratio = statistics.median(r[0][0] / r[1][0] for r in runs)
                print(f"| {label} | {feed[0]:.0f} | {feed[1]:.1f} | {baseline[0]:.0f} | "
                      f"{baseline[1]:.1f} | {ratio:.0%} | {feed[2]:.0f} / {baseline[2]:.0f} "
                      f"({baseline[2] / feed[2]:.0%}) |")  # fmt: skip
        finally:
            proc.terminate()
            proc.wait()

        median, worst, size = cache_miss_ms(cfg)
        print(f"\ncache miss (read + render the 50-entry feed, {size // 1024} KiB): "
              f"median {median:.1f} ms, worst {worst:.1f} ms of 30")  # fmt: skip

        big = folder / "big"
        big.mkdir()
        (big / "articles").mkdir()
        port = free_port()
        cfg = write_config(big, big / "big.db", port, args.threads)
        t0 = time.perf_counter()
        big_database(big)
        built = time.perf_counter() - t0
        proc, _ = start_server(cfg)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{base}/feeds/bench.atom")
            after_start = rss_kib(proc.pid)
            url = f"{base}/feeds/bench.atom"
            for _ in range(40):  # walk 40 pages: 2,000 articles' renderings cached
                body = urllib.request.urlopen(url, timeout=30).read().decode()
                m = re.search(r'<link rel="next"[^>]*href="([^"]+)"', body)
                if not m:
                    break
                url = m.group(1).replace("&amp;", "&")
            urllib.request.urlopen(f"{base}/", timeout=30).read()
            gzip = {"Accept-Encoding": "gzip"}
            wrk(f"{base}/feeds/bench.atom", 2, args.connections, gzip, proc.pid)
            after_load = rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
        db_mib = (big / "big.db").stat().st_size / 2**20
        print(f"\nmemory of one web process, 10,000 articles / 50,000 versions "
              f"({db_mib:.0f} MiB SQLite, built in {built:.0f} s): "
              f"{after_start / 1024:.0f} MiB after start, "
              f"{after_load / 1024:.0f} MiB after serving 40 feed pages, the index and "
              f"{2} s of gzip GETs")  # fmt: skip


if __name__ == "__main__":
    main()
