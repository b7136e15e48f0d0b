"""Benchmark of `feedsvc export` (JSON Lines, and --warc): peak memory and
speed against the number of versions. Run it, read the table. Not a test.

    python bench/export.py [--sizes 5000,50000] [--postgres URL]

For each size, a database of that many versions (~1.5 KB of text each, and
a ~6 KB raw page behind each, written straight to the tables) is exported
by `python -m feedsvc export` (and `export --warc FILE`) in a child
process; its peak RSS comes from wait4(). Streaming means the
peak stays flat while the output grows tenfold. With --postgres (or
FEEDSVC_TEST_DATABASE_URL) the same runs on PostgreSQL, in a schema of its
own that is dropped afterwards. Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feedsvc import config  # noqa: E402
from feedsvc.storage import Store  # noqa: E402

PAGE = (
    "<html><body><article><h1>Story VERSION</h1>"
    + "<p>lorem ipsum VERSION</p>" * 200
    + "</article></body></html>"
)
TEXT = "\n\n".join(
    " ".join(f"word{(p * 31 + i) % 97}" for i in range(40)) for p in range(5)
)  # about 1.5 KB in five paragraphs


def fill(database: str, folder: Path, versions: int, per_article: int = 5) -> Path:
    import zlib

    from sqlalchemy import insert

    from feedsvc.storage.tables import articles, raws
    from feedsvc.storage.tables import versions as t_versions

    path = folder / "config.toml"
    path.write_text(
        f'[service]\ndatabase = "{database}"\n[[feeds]]\nname = "bench"\nsources = ["{folder}"]\n'
    )
    settings = config.load(path)
    store = Store(settings.service.database)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    store.sync_sources(settings.feeds, start)
    source_id = store.list_sources("bench")[0].id
    with store.engine.begin() as conn:
        for first in range(0, versions // per_article, 1000):
            rows, vrows, rrows = [], [], []
            for n in range(first, min(first + 1000, versions // per_article)):
                aid = f"{n:016x}"
                seen = start + timedelta(minutes=n)
                rows.append(
                    dict(id=aid, feed="bench", source_id=source_id, key=f"k{n}", url=None,
                         first_seen_at=seen, published_at=None, updated_at=seen,
                         last_seen_at=seen, latest_version=per_article, developing=False,
                         status="active", unchanged_checks=0, check_failures=0)
                )  # fmt: skip
                for v in range(1, per_article + 1):
                    raw_id = n * per_article + v
                    body = PAGE.replace("VERSION", f"{n}.{v}").encode()
                    rrows.append(
                        dict(id=raw_id, sha256=f"{raw_id:064x}", url=f"http://news.test/{n}",
                             fetched_at=seen, status=200, content_type="text/html",
                             etag=f'"{raw_id}"', last_modified=None, extractor="bench",
                             body=zlib.compress(body), request_headers=None,
                             response_headers='{"content-type": "text/html"}')
                    )  # fmt: skip
                    vrows.append(
                        dict(article_id=aid, number=v, seen_at=seen, title=f"Story {n} v{v}",
                             text=f"{TEXT} {v}", html="", sha256=f"{n:032x}{v:032x}",
                             words=200, words_added=1, words_removed=0,
                             change_class="initial" if v == 1 else "append", revert_of=None,
                             developing=False, suspect=False, author=None, raw_id=raw_id)
                    )  # fmt: skip
            conn.execute(insert(raws), rrows)
            conn.execute(insert(articles), rows)
            conn.execute(insert(t_versions), vrows)
    store.close()
    return path


def export(config_path: Path, *args: str) -> tuple[float, int, int, int]:
    """(seconds, peak RSS in KiB, lines, bytes) of one `feedsvc export`."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "export", "--config", str(config_path), *args],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    lines = size = 0
    for line in child.stdout:
        lines += 1
        size += len(line)
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return time.perf_counter() - began, usage.ru_maxrss, lines, size


def pg_schema(base: str) -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000")
    parser.add_argument("--postgres", default=os.environ.get("FEEDSVC_TEST_DATABASE_URL"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"`python bench/export.py --sizes {args.sizes}` on {platform.python_version()}, "
          f"{os.cpu_count()} cores\n")  # fmt: skip
    print("| database | format | versions | MB out | seconds | versions/s | peak RSS MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    for backend in backends:
        for size in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                schema = None
                if backend == "sqlite":
                    url = f"sqlite:///{folder}/bench.db"
                else:
                    schema, url = pg_schema(args.postgres)
                try:
                    path = fill(url, folder, size)
                    seconds, rss, lines, out = export(path)
                    warc = folder / "bench.warc.gz"
                    w_seconds, w_rss, _, _ = export(path, "--warc", str(warc))
                    w_out = warc.stat().st_size
                finally:
                    if schema:
                        drop_schema(args.postgres, schema)
            for fmt, secs, peak, mb in (
                ("jsonl", seconds, rss, out),
                ("warc", w_seconds, w_rss, w_out),
            ):
                print(
                    f"| {backend} | {fmt} | {size} | {mb / 1e6:.1f} | {secs:.1f} | "
                    f"{size / secs:,.0f} | {peak / 1024:.0f} |"
                )
            assert lines == size


if __name__ == "__main__":
    main()
