"""Ingest capacity: how many polls a second `feedsvc worker` makes, what an
unchanged poll costs, how late polls start under a steady load, and how
that compares with a minimal poller on the same upstream and database.

The upstream runs in a process of its own (asyncio, HTTP/1.1 keep-alive):
N feeds spread over 50 host names, 127.0.0.2 ... 127.0.0.51. Each feed has
one item (its latest story) linking to an article page; on a request, with
probability `changed` the feed has a new story (200, new ETag, the page of
the new story then fetched by feedsvc: fetch_articles = true), otherwise it
answers 304 to its ETag.

Sources are seeded in the database with their current ETag, as after a
first round, so each run measures the steady state and not 10,000 first
fetches. Phases, for each database and each number of feeds:

- saturated: every source always due (interval 1 s), the upstream answers
  304 only: unchanged polls per second and CPU ms per unchanged poll of the
  worker process(es), for 1 and 2 workers; worker RSS.
- minimal: the baseline, a poller that does only what is unavoidable
  (8 threads, httpx conditional GET, one UPDATE of the next poll time per
  source) on the same upstream and database, saturated the same way. It
  runs in turn with the single worker (stopped by SIGSTOP meanwhile),
  `--rounds` windows each, and the ratio is the median of the rounds'
  ratios: this machine's load moves by a third within a minute, so a
  baseline measured a minute apart is no baseline.
- held: one worker, sources due spread evenly over one interval (from
  just after the worker is up), 90% 304 and 10% changed: polls per second
  and lateness (how long after its due time each poll started, from the
  worker's own log) median and p99, over the first `--held-seconds`.

    python bench/ingest.py [--feeds 1000 10000] [--db sqlite postgres]
        [--seconds 20] [--held-interval 900] [--held-seconds 240]

Every measurement starts once the workers are polling (start-up, which
takes seconds to minutes on a loaded machine, is reported, not counted).

PostgreSQL comes from FEEDSVC_TEST_DATABASE_URL (a schema per run).
Nothing is asserted here; tests/test_ingest.py holds the behaviour.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOSTS = [f"127.0.0.{n}" for n in range(2, 52)]
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the upstream (a process of its own) --------------------------------------


class Feeds:
    def __init__(self, changed: float) -> None:
        self.changed = changed
        self.version: dict[int, int] = {}
        self.counts = {"200": 0, "304": 0, "page": 0}

    def feed(self, n: int, host: str, port: int, etag: bytes) -> bytes:
        v = self.version.get(n, 0)
        if random.random() < self.changed:
            v = self.version[n] = v + 1
        tag = f'"{n}-{v}"'.encode()
        if etag == tag:
            self.counts["304"] += 1
            return b"HTTP/1.1 304 Not Modified\r\nETag: " + tag + b"\r\nContent-Length: 0\r\n\r\n"
        self.counts["200"] += 1
        body = (
            "<?xml version='1.0'?><rss version='2.0'><channel>"
            f"<title>Desk {n}</title><link>http://{host}:{port}/</link>"
            f"<item><guid>urn:desk:{n}:{v}</guid><title>Story {v} from desk {n}</title>"
            f"<link>http://{host}:{port}/a/{n}-{v}.html</link>"
            f"<description>Story {v} from desk {n}, in short.</description></item>"
            "</channel></rss>"
        ).encode()
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: "
            + tag
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )

    def page(self, name: str) -> bytes:
        self.counts["page"] += 1
        paragraphs = "".join(
            f"<p>Paragraph {i} of story {name}: the harbour authority said on "
            "Tuesday that the night crossing would run again from next week, "
            "after repairs to the ramp took longer than planned.</p>"
            for i in range(8)
        )
        body = (
            f"<!doctype html><html><head><title>Story {name}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>Story {name}</h1>{paragraphs}"
            "</article><footer>Desk news</footer></body></html>"
        ).encode()
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )


class Http(asyncio.Protocol):
    def __init__(self, feeds: Feeds, port: int) -> None:
        self.feeds = feeds
        self.port = port
        self.buffer = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.host = transport.get_extra_info("sockname")[0]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            path = lines[0].split(b" ")[1].decode()
            etag = b""
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"if-none-match":
                    etag = value.strip()
            self.transport.write(self.answer(path, etag))

    def answer(self, path: str, etag: bytes) -> bytes:
        if m := re.fullmatch(r"/f/(\d+)\.xml", path):
            return self.feeds.feed(int(m.group(1)), self.host, self.port, etag)
        if m := re.fullmatch(r"/a/([\d-]+)\.html", path):
            return self.feeds.page(m.group(1))
        if m := re.fullmatch(r"/_mode\?changed=([\d.]+)", path):
            # A new phase: its sources are seeded with each feed's first
            # ETag, so every feed starts again from its first version.
            self.feeds.changed = float(m.group(1))
            self.feeds.version.clear()
        body = json.dumps(self.feeds.counts).encode()
        return b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


def serve(port: int, changed: float) -> None:
    async def main() -> None:
        feeds = Feeds(changed)
        loop = asyncio.get_running_loop()
        for host in [*HOSTS, "127.0.0.1"]:
            await loop.create_server(lambda: Http(feeds, port), host, port, backlog=1024)
        await asyncio.Event().wait()

    asyncio.run(main())


class Upstream:
    def __init__(self) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port)], stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            try:
                self.counts()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the upstream did not start")

    def url(self, n: int) -> str:
        return f"http://{HOSTS[n % len(HOSTS)]}:{self.port}/f/{n}.xml"

    def etag(self, n: int) -> str:
        return f'"{n}-0"'

    def counts(self, changed: float | None = None) -> dict[str, int]:
        path = f"/_mode?changed={changed}" if changed is not None else "/_stats"
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return dict(json.loads(r.read()))

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


# -- databases ---------------------------------------------------------------


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder}/feedsvc.db"
        return
    import psycopg

    base = os.environ.get("FEEDSVC_TEST_DATABASE_URL")
    if not base:
        sys.exit("set FEEDSVC_TEST_DATABASE_URL for the PostgreSQL runs")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


CONCURRENCY: list[int] = []  # --concurrency: [scheduler] concurrency, else the default
TICK = 5.0  # [scheduler] tick, the default: the longest a worker sleeps


def write_config(folder: Path, db: str, upstream: Upstream, feeds: int, interval: float) -> Path:
    sources = ",\n  ".join(f'"{upstream.url(n)}"' for n in range(feeds))
    path = folder / "config.toml"
    slots = f"concurrency = {CONCURRENCY[0]}\n" if CONCURRENCY else ""
    path.write_text(
        f'[service]\ndatabase = "{db}"\n'
        f"[scheduler]\ninterval = {interval}\nlease = 60\n{slots}"
        f'[[feeds]]\nname = "desks"\nfetch_articles = true\nsources = [\n  {sources}\n]\n'
    )
    return path


def seed(
    config_path: Path, upstream: Upstream, feeds: int, spread: float, start: float = 0.0
) -> None:
    """Sources as after a first round: their ETag known, due over `spread`
    seconds from `start` seconds from now (0, 0: all due now)."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import bindparam, update

    from feedsvc import config
    from feedsvc.storage import Store
    from feedsvc.storage.tables import sources

    settings = config.load(config_path)
    store = Store(settings.service.database)
    now = datetime.now(UTC)
    store.sync_sources(settings.feeds, now)
    first = datetime.now(UTC) + timedelta(seconds=start)
    rows = [
        {
            "loc": upstream.url(n),
            "etag": upstream.etag(n),
            "due": first + timedelta(seconds=spread * n / feeds),
        }
        for n in range(feeds)
    ]
    with store.engine.begin() as conn:
        conn.execute(
            update(sources)
            .where(sources.c.feed == "desks", sources.c.locator == bindparam("loc"))
            .values(
                etag=bindparam("etag"),
                next_poll_at=bindparam("due"),
                last_polled_at=now,
                lease_owner=None,
                lease_until=None,
            ),
            rows,
        )
    store.close()


# -- measuring processes -------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_workers(config_path: Path, count: int, folder: Path) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = []
    for i in range(count):
        log = open(folder / f"worker{i}.log", "wb")  # noqa: SIM115 (closed below)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "worker", "--config", str(config_path)],
                env=env,
                stdout=log,
                stderr=log,
            )
        )
        log.close()
    return procs


def wait_until_polling(
    procs: list[subprocess.Popen[bytes]], config_path: Path, timeout: float = 600.0
) -> float:
    """Wait until every worker holds leases, i.e. polls (started, migrations
    checked, sources synced): a fixed start-up allowance measured start-up,
    not polling, on a loaded machine. Returns the seconds waited. (Read
    from the leases: a 304 is not logged at the default level.)"""
    sys.path.insert(0, str(ROOT))
    from feedsvc import config
    from feedsvc.storage import Store

    store = Store(config.load(config_path).service.database)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < timeout:
            owners = " ".join(store.list_lease_owners(datetime.now(UTC)))
            if all(f":{p.pid}:" in owners for p in procs):
                return time.monotonic() - t0
            dead = [p.pid for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"worker(s) {dead} exited")
            time.sleep(0.05)
    finally:
        store.close()
    raise RuntimeError(f"workers not polling after {timeout:g}s")


def wait_until_started(
    procs: list[subprocess.Popen[bytes]], folder: Path, timeout: float = 600.0
) -> float:
    """Wait until every worker's scheduler has started."""
    return _wait_for_log(procs, folder, "started:", timeout)


def _wait_for_log(
    procs: list[subprocess.Popen[bytes]], folder: Path, mark: str, timeout: float
) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        logs = [(folder / f"worker{i}.log").read_text(errors="replace") for i in range(len(procs))]
        if all(mark in log for log in logs):
            return time.monotonic() - t0
        dead = [p.pid for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"worker(s) {dead} exited:\n{logs}")
        time.sleep(0.1)
    raise RuntimeError(f"workers not at {mark!r} after {timeout:g}s")


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def saturated(
    kind: str, upstream: Upstream, feeds: int, workers: int, seconds: float, rounds: int
) -> dict[str, float]:
    """Unchanged polls per second with every source always due. With one
    worker, the minimal poller runs between its windows (the worker stopped
    with SIGSTOP meanwhile): `rounds` pairs of windows, so that both see the
    same machine (its load moves by a third within a minute here)."""
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as db:
        folder = Path(tmp)
        path = write_config(folder, db, upstream, feeds, interval=1)
        seed(path, upstream, feeds, spread=0)
        upstream.counts(changed=0.0)
        baseline = Minimal(kind, upstream, feeds, folder / "minimal") if workers == 1 else None
        procs = start_workers(path, workers, folder)
        rates: list[float] = []
        minimal_rates: list[float] = []
        polls = 0
        cpu = elapsed = 0.0
        try:
            startup = wait_until_polling(procs, path)
            time.sleep(2.0)  # each host's client made, claims a batch ahead
            window = seconds / rounds
            for _ in range(rounds):
                before = upstream.counts()["304"]
                cpu0 = sum(cpu_seconds(p.pid) for p in procs)
                t0 = time.monotonic()
                time.sleep(window)
                done = upstream.counts()["304"] - before
                took = time.monotonic() - t0
                cpu += sum(cpu_seconds(p.pid) for p in procs) - cpu0
                polls, elapsed = polls + done, elapsed + took
                rates.append(done / took)
                if baseline is not None:
                    for p in procs:
                        p.send_signal(signal.SIGSTOP)
                    try:
                        minimal_rates.append(baseline.run(window))
                    finally:
                        for p in procs:
                            p.send_signal(signal.SIGCONT)
                    time.sleep(0.5)  # back to its pace
            rss = max(rss_mb(p.pid) for p in procs)
        finally:
            stop_workers(procs)
            if baseline is not None:
                baseline.close()
    ratios = [r / m for r, m in zip(rates, minimal_rates, strict=False)]  # none: 2 workers
    return {
        "polls_s": polls / elapsed,
        "cpu_ms": 1000 * cpu / max(polls, 1),
        "rss": rss,
        "startup": startup,
        "minimal_s": statistics.median(minimal_rates) if minimal_rates else float("nan"),
        "ratio": statistics.median(ratios) if ratios else float("nan"),
        "ratios": ratios,  # type: ignore[dict-item]
    }


def held(
    kind: str, upstream: Upstream, feeds: int, interval: float, seconds: float
) -> dict[str, float]:
    """One worker under a steady load: sources due evenly over one interval,
    90% unchanged."""
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as db:
        folder = Path(tmp)
        path = write_config(folder, db, upstream, feeds, interval=interval)
        # Parked (nothing due for a day) while the worker starts; then due
        # evenly over one interval from a little after it is up (its first
        # look at the new schedule is at most a tick away), so lateness
        # measures keeping up, not start-up.
        seed(path, upstream, feeds, spread=interval, start=86400)
        upstream.counts(changed=0.1)
        [proc] = start_workers(path, 1, folder)
        try:
            startup = wait_until_started([proc], folder)
            seed(path, upstream, feeds, spread=interval, start=TICK + 1)
            time.sleep(TICK + 1)
            before = upstream.counts()
            cpu0 = cpu_seconds(proc.pid)
            t0 = time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - t0
            cpu = cpu_seconds(proc.pid) - cpu0
            rss = rss_mb(proc.pid)
            after = upstream.counts()
        finally:
            stop_workers([proc])
            upstream.counts(changed=0.0)
        log = (folder / "worker0.log").read_text()
    m = re.search(r"stopped: (\d+) polls, lateness median ([\d.]+)s p99 ([\d.]+)s", log)
    polls = (after["200"] - before["200"]) + (after["304"] - before["304"])
    return {
        "polls_s": polls / elapsed,
        "changed": after["200"] - before["200"],
        "pages": after["page"] - before["page"],
        "cpu_share": cpu / elapsed,
        "median": float(m.group(2)) if m else float("nan"),
        "p99": float(m.group(3)) if m else float("nan"),
        "rss": rss,
        "errors": log.count("error:"),
        "startup": startup,
    }


# -- the baseline: a minimal poller ------------------------------------------------


class Minimal:
    """The least a poller must do: a conditional GET (validators in memory,
    one httpx client per host) and one UPDATE of the next poll time, 8
    threads, saturated, all 304; on its own table in the same database."""

    def __init__(self, kind: str, upstream: Upstream, feeds: int, folder: Path) -> None:
        import httpx

        self.upstream, self.feeds = upstream, feeds
        folder.mkdir(exist_ok=True)
        self._db = database(kind, folder)
        db = self._db.__enter__()
        if kind == "sqlite":
            path = db.removeprefix("sqlite:///")

            def connect() -> Any:
                conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                return conn

            self.mark = "?"
        else:
            import psycopg

            def connect() -> Any:
                return psycopg.connect(db)

            self.mark = "%s"
        self.connect = connect
        with connect() as conn:
            conn.execute("CREATE TABLE mini (id INTEGER PRIMARY KEY, etag TEXT, next_at REAL)")
            conn.cursor().executemany(
                f"INSERT INTO mini VALUES ({self.mark}, {self.mark}, 0)",
                [(n, upstream.etag(n)) for n in range(feeds)],
            )
            conn.commit()
        self.order = list(range(feeds))
        random.shuffle(self.order)
        self.cursor = 0
        self.etags = {n: upstream.etag(n) for n in range(feeds)}
        self.clients = {host: httpx.Client() for host in HOSTS}  # connections kept per host

    def run(self, seconds: float) -> float:
        """Poll for `seconds`; polls per second."""
        stop = time.monotonic() + seconds
        count = [0]
        lock = threading.Lock()
        mark = self.mark

        def work() -> None:
            conn = self.connect()
            while time.monotonic() < stop:
                with lock:
                    n = self.order[self.cursor % self.feeds]
                    self.cursor += 1
                client = self.clients[HOSTS[n % len(HOSTS)]]
                r = client.get(self.upstream.url(n), headers={"If-None-Match": self.etags[n]})
                self.etags[n] = r.headers.get("etag", self.etags[n])
                conn.execute(
                    f"UPDATE mini SET etag = {mark}, next_at = {mark} WHERE id = {mark}",
                    (self.etags[n], time.time() + 900, n),
                )
                conn.commit()
                with lock:
                    count[0] += 1
            conn.close()

        t0 = time.monotonic()
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return count[0] / (time.monotonic() - t0)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self._db.__exit__(None, None, None)


# -- the report ------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--feeds", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="windows of feedsvc and the minimal poller, taken in turn",
    )
    parser.add_argument("--held-interval", type=float, default=900.0)
    parser.add_argument("--held-seconds", type=float, default=240.0)
    parser.add_argument("--no-held", action="store_true")
    parser.add_argument("--concurrency", type=int, help="[scheduler] concurrency of the workers")
    args = parser.parse_args()
    if args.concurrency:
        CONCURRENCY.append(args.concurrency)
    if args.serve:
        serve(args.serve, 0.0)
        return
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"load average at start: {os.getloadavg()}")
    print(f"command: {' '.join(sys.argv)}\n")
    upstream = Upstream()
    try:
        print(
            "| db | feeds | workers | unchanged polls/s | CPU ms/unchanged poll | worker RSS MB "
            "| start-up s |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        ones: dict[tuple[str, int], dict[str, Any]] = {}
        for kind in args.db:
            for feeds in args.feeds:
                for workers in args.workers:
                    r = saturated(kind, upstream, feeds, workers, args.seconds, args.rounds)
                    if workers == 1:
                        ones[kind, feeds] = r
                    print(
                        f"| {kind} | {feeds} | {workers} | {r['polls_s']:.0f} | "
                        f"{r['cpu_ms']:.2f} | {r['rss']:.0f} | {r['startup']:.1f} |",
                        flush=True,
                    )
        print(
            "\n| db | feeds | minimal poller polls/s (median) | feedsvc / minimal (median) "
            "| each round |"
        )
        print("| --- | ---: | ---: | ---: | --- |")
        for (kind, feeds), r in ones.items():
            each = " ".join(f"{x:.2f}" for x in r["ratios"])
            print(f"| {kind} | {feeds} | {r['minimal_s']:.0f} | {r['ratio']:.2f} | {each} |")
        if not args.no_held:
            interval, feeds = args.held_interval, max(args.feeds)
            print(
                f"\nheld: {feeds} feeds, interval {interval:g}s (needs "
                f"{feeds / interval:.0f} polls/s), 10% changed, one worker, "
                f"{args.held_seconds:g}s"
            )
            print(
                "| db | polls/s | changed polls | pages fetched | worker CPU share | "
                f"lateness median s | lateness p99 s (target < {interval / 10:g}) | RSS MB "
                "| errors |"
            )
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for kind in args.db:
                h = held(kind, upstream, feeds, interval, args.held_seconds)
                print(
                    f"| {kind} | {h['polls_s']:.1f} | {h['changed']:.0f} | {h['pages']:.0f} | "
                    f"{h['cpu_share']:.0%} | {h['median']:.2f} | {h['p99']:.2f} | "
                    f"{h['rss']:.0f} | {h['errors']:.0f} |",
                    flush=True,
                )
    finally:
        upstream.close()
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
