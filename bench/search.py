"""Benchmark of search over every version: query latency over 10,000
articles / 50,000 versions, and what indexing adds to storing a version.
Run it, read the table. Not a test.

    python bench/search.py [--articles 10000] [--postgres URL]

The corpus: articles of ~300 words in five paragraphs drawn from a Zipf-
distributed vocabulary of 20,000 made-up words (so common words are common
and rare ones rare), each revised four times (a sentence reworded, a
paragraph appended, a paragraph removed, a number changed): five versions
an article. Rows go straight into the tables; the index is then built the
way migration 0007 builds it. Queries (200 of each kind, after warm-up):
a common word, a rare word, a two-word phrase from a removed paragraph, a
prefix, three words, and a word that is nowhere. Latency is Store.search()
with limit=20, p50 and p99 in milliseconds.

The write cost: versions stored one transaction each through the real path
(Store.add_version), with the index, and with index_version() replaced by a
no-op, alternated in rounds in one run (the machine is shared and noisy),
reported as a ratio. With --postgres (or FEEDSVC_TEST_DATABASE_URL) the
same runs on PostgreSQL in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, text  # noqa: E402

from feedsvc import config  # noqa: E402
from feedsvc.models import VersionIntent  # noqa: E402
from feedsvc.revisions import content_hash  # noqa: E402
from feedsvc.storage import Store  # noqa: E402
from feedsvc.storage import search as search_module  # noqa: E402
from feedsvc.storage import writes as writes_module  # noqa: E402
from feedsvc.storage.rows import article_id  # noqa: E402
from feedsvc.storage.tables import articles, versions  # noqa: E402

VOCABULARY = 20_000
SEED = 14


class Corpus:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        consonants, vowels = "bcdfghklmnprstvz", "aeiou"
        words: set[str] = set()
        while len(words) < VOCABULARY:
            n = self.rng.randint(2, 4)
            words.add(
                "".join(self.rng.choice(consonants) + self.rng.choice(vowels) for _ in range(n))
            )
        self.words = sorted(words)
        self.rng.shuffle(self.words)
        # Zipf, s = 1; cumulative, so each draw is a bisect, not a sum.
        self.cum = list(itertools.accumulate(1 / (k + 1) for k in range(VOCABULARY)))

    def sentence(self, n: int = 12) -> str:
        chosen = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        return " ".join(chosen).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(5))

    def story(self) -> list[list[str]]:
        """Five versions of one article, as lists of paragraphs."""
        v1 = [self.paragraph() for _ in range(5)]
        v2 = list(v1)
        v2[1] = self.sentence() + " " + v2[1].split(". ", 1)[-1]
        v3 = [*v2, self.paragraph()]
        v4 = [p for k, p in enumerate(v3) if k != 2]
        v5 = list(v4)
        v5[0] = v5[0] + f" Officials counted {self.rng.randint(2, 900)} cases."
        return [v1, v2, v3, v4, v5]


def settings_for(database: str, folder: Path) -> Any:
    path = folder / "config.toml"
    path.write_text(
        f'[service]\ndatabase = "{database}"\n[[feeds]]\nname = "bench"\nsources = ["{folder}"]\n'
    )
    return config.load(path)


def fill(store: Store, source_id: int, corpus: Corpus, n_articles: int) -> list[list[list[str]]]:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    stories = []
    with store.engine.begin() as conn:
        for first in range(0, n_articles, 500):
            rows, vrows = [], []
            for n in range(first, min(first + 500, n_articles)):
                story = corpus.story()
                stories.append(story)
                aid = article_id("bench", f"k{n}")
                seen = start + timedelta(minutes=n)
                rows.append(
                    dict(id=aid, feed="bench", source_id=source_id, key=f"k{n}", url=None,
                         first_seen_at=seen, published_at=None, updated_at=seen,
                         last_seen_at=seen, latest_version=5, developing=False,
                         status="active", unchanged_checks=0, check_failures=0)
                )  # fmt: skip
                for v, paragraphs in enumerate(story, start=1):
                    body = "\n\n".join(paragraphs)
                    vrows.append(
                        dict(article_id=aid, number=v, seen_at=seen, title=f"Story {n}",
                             text=body, html="", sha256=content_hash(f"Story {n}", body),
                             words=len(body.split()), words_added=1, words_removed=0,
                             change_class="initial" if v == 1 else "edit", revert_of=None,
                             developing=False, suspect=False, author=None, raw_id=None)
                    )  # fmt: skip
            conn.execute(insert(articles), rows)
            conn.execute(insert(versions), vrows)
        # Index the way migration 0007 does for versions stored before it.
        if store.dialect == "sqlite":
            conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
        else:
            conn.execute(text("TRUNCATE search_fts"))
            conn.execute(
                text(
                    "INSERT INTO search_fts (version_id, document) SELECT id, "
                    "to_tsvector('simple', left(title || E'\\n\\n' || text, 200000)) FROM versions"
                )
            )
            conn.execute(text("ANALYZE search_fts"))
            conn.execute(text("ANALYZE versions"))
    return stories


def queries(corpus: Corpus, stories: list[list[list[str]]]) -> dict[str, list[str]]:
    rng = random.Random(SEED + 1)
    common = corpus.words[:50]
    rare = corpus.words[5_000:20_000]
    out: dict[str, list[str]] = {k: [] for k in ("common word", "rare word", "removed phrase",
                                                 "prefix", "three words", "nowhere")}  # fmt: skip
    for _ in range(200):
        out["common word"].append(rng.choice(common))
        out["rare word"].append(rng.choice(rare))
        story = rng.choice(stories)
        removed = story[2][2].split()  # v3's third paragraph, gone in v4
        k = rng.randrange(len(removed) - 1)
        out["removed phrase"].append('"' + " ".join(removed[k : k + 2]).strip(".") + '"')
        out["prefix"].append(rng.choice(rare)[:4] + "*")
        out["three words"].append(" ".join(rng.choice(corpus.words[:2000]) for _ in range(3)))
        out["nowhere"].append("zzqx" + str(rng.randint(0, 10**6)))
    return out


def latency(store: Store, qs: list[str]) -> tuple[float, float, float]:
    for q in qs[:10]:
        store.search(q, limit=20)  # warm-up
    times, hits = [], 0
    for q in qs:
        t = time.perf_counter()
        hits += len(store.search(q, limit=20))
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return statistics.median(times), p99, hits / len(qs)


def write_cost(
    store: Store, corpus: Corpus, rounds: int = 6, per_round: int = 100
) -> tuple[float, float]:
    """(ms per stored version with the index, without), alternating."""
    real = search_module.index_version
    with_index: list[float] = []
    without: list[float] = []
    now = datetime(2026, 6, 1, tzinfo=UTC)
    n = 0

    def store_some(off: bool) -> float:
        nonlocal n, now
        if off:
            writes_module.index_version = lambda *a, **k: None  # type: ignore[assignment]
        try:
            t = time.perf_counter()
            for _ in range(per_round):
                body = "\n\n".join(corpus.paragraph() for _ in range(5))
                key = f"k{n % 200}"  # articles the corpus holds
                n += 1
                now += timedelta(seconds=1)
                store.add_version("bench", key, intent(f"Story {key}", body), now)
            return (time.perf_counter() - t) * 1000 / per_round
        finally:
            writes_module.index_version = real

    for r in range(rounds):
        for off in (False, True) if r % 2 == 0 else (True, False):
            (without if off else with_index).append(store_some(off))
    return statistics.median(with_index), statistics.median(without)


def intent(title: str, body: str) -> VersionIntent:
    return VersionIntent(
        title=title, text=body, html="", sha256=content_hash(title, body),
        words=len(body.split()), words_added=1, words_removed=1, change_class="edit",
    )  # fmt: skip


def run(database: str, n_articles: int, label: str) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(database, Path(tmp))
        store = Store(settings.service.database)
        try:
            store.sync_sources(settings.feeds, datetime(2026, 3, 1, tzinfo=UTC))
            source_id = store.list_sources("bench")[0].id
            corpus = Corpus()
            t = time.perf_counter()
            stories = fill(store, source_id, corpus, n_articles)
            built = time.perf_counter() - t
            lines = [
                f"{label}: {n_articles:,} articles, {n_articles * 5:,} versions "
                f"(filled and indexed in {built:.0f} s)",
                "",
                "| query | example | p50 ms | p99 ms | hits/query (max 20) |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            for kind, qs in queries(corpus, stories).items():
                p50, p99, hits = latency(store, qs)
                lines.append(f"| {kind} | `{qs[0]}` | {p50:.1f} | {p99:.1f} | {hits:.1f} |")
            on, off = write_cost(store, corpus)
            lines += [
                "",
                f"Storing one version (own transaction, Store.add_version): {on:.2f} ms with "
                f"the index, {off:.2f} ms without: x{on / off:.2f} (+{on - off:.2f} ms).",
                "",
            ]
            return lines
        finally:
            store.close()


def pg_url(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def with_pg_schema(base: str, body: Callable[[str], list[str]]) -> list[str]:
    import psycopg

    schema, url = pg_url(base)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        return body(url)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("FEEDSVC_TEST_DATABASE_URL"))
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            print("\n".join(run(f"sqlite:///{tmp}/bench.db", args.articles, "SQLite (FTS5)")))
    if args.postgres:
        lines = with_pg_schema(
            args.postgres, lambda url: run(url, args.articles, "PostgreSQL (tsvector + GIN)")
        )
        print("\n".join(lines))


if __name__ == "__main__":
    main()
