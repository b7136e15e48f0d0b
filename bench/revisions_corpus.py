"""Revision fidelity on real pages: false revisions and missed edits.

    python bench/revisions_corpus.py [--limit N] [--every K] [--jobs N]

Every page of trafilatura's evaluation corpus (../shared/corpora, or
FEEDSVC_CORPUS) goes through feedsvc's real ingest path: a local upstream on
127.0.0.1 serves it, one feed has every page as a source, `Updater.poll()`
fetches and extracts them into a Store (SQLite in a temporary directory).
Then each page is served again, and polled again, six times in all:

0. with furniture in one state (tests/mutations.py: a readers counter,
   "Updated N minutes ago", an ad slot, "N Comments" right after the
   article's block, a "Most read" list, inline scripts with a nonce and a
   timestamp, cache-busting query strings);
1. the same furniture in another state (a new "most read" item, other
   counters, nonces, cache-busters, another ad): must make no version;
2-5. real edits inside the article, cumulative: one word, one number, an
   appended paragraph, a removed sentence: each must make a version that
   shows it.

The article's block is located by the corpus's own `with` snippets, never
by an extractor. A false revision is a version after step 1; an edit is
missed when no version follows it or the stored text does not show it, and
is counted only on pages whose article (the block) was extracted at step 0.
Two baselines see the very same pages in the same run: plain
`trafilatura.extract()` text and readability-lxml's summary (what diffengine
versions), each a revision when its whitespace-folded text changes.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402
from werkzeug import Request, Response  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from feedsvc import config  # noqa: E402
from feedsvc.charset import decode_html  # noqa: E402
from feedsvc.storage import Store  # noqa: E402
from feedsvc.text import html_to_text  # noqa: E402
from feedsvc.update import Updater  # noqa: E402
from tests import corpus, mutations  # noqa: E402

STEPS = ("noise", "word", "number", "append", "removal")


@dataclass
class Plan:
    """One page's six bodies (None: the same as the step before) and the
    article block's text, to tell whether the article was extracted."""

    url: str
    bodies: list[str | None]
    edits: dict[int, mutations.Edit]
    block: str


def plan(page: corpus.CorpusPage) -> Plan | None:
    html = decode_html(page.body, None)
    try:
        base = mutations.with_noise(html, page.with_, 0)
        noisy = mutations.with_noise(html, page.with_, 1)
        at = mutations.anchor(mutations._parse(base), page.with_)
        edits = {e.kind: e for e in mutations.edits(noisy, page.with_)}
    except Exception as exc:  # a page lxml cannot take apart is reported, not fatal
        print(f"{page.file}: cannot mutate: {exc!r}", file=sys.stderr)
        return None
    bodies: list[str | None] = [base, noisy]
    numbered: dict[int, mutations.Edit] = {}
    for step, kind in enumerate(STEPS[1:], start=2):
        edit = edits.get(kind)
        bodies.append(edit.html if edit else None)
        if edit:
            numbered[step] = edit
    block = corpus.norm(at.text_content()) if at is not None else ""
    return Plan(page.url, bodies, numbered, block)


def _fold(text: str) -> str:
    return " ".join(text.split())


def baseline_texts(bodies: list[str | None]) -> dict[str, list[str]]:
    """The two baselines' text of each step's page."""
    from readability import Document

    out: dict[str, list[str]] = {"trafilatura": [], "readability": []}
    current = ""
    for body in bodies:
        current = body if body is not None else current
        try:
            plain = trafilatura.extract(current) or ""
        except Exception:
            plain = ""
        try:
            summary = html_to_text(Document(current).summary())
        except Exception:
            summary = ""
        out["trafilatura"].append(_fold(plain))
        out["readability"].append(_fold(summary))
    return out


@dataclass
class Tally:
    pages: int = 0
    extracted: int = 0  # pages whose article block was in the first text
    false_revisions: list[str] = field(default_factory=list)
    edits: Counter[str] = field(default_factory=Counter)
    missed: list[tuple[str, str]] = field(default_factory=list)


def score_texts(p: Plan, texts: list[str], tally: Tally) -> None:
    """A text-comparison baseline: a revision when the text changes."""
    tally.pages += 1
    if not mutations.extracted(p.block, texts[0]):
        return
    tally.extracted += 1
    if texts[1] != texts[0]:
        tally.false_revisions.append(p.url)
    for step, edit in p.edits.items():
        tally.edits[edit.kind] += 1
        if texts[step] == texts[step - 1] or not mutations.applied(edit, texts[step]):
            tally.missed.append((p.url, edit.kind))


class Upstream:
    """The news site: /p/N answers page N's current body."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @Request.application
    def app(self, request: Request) -> Response:
        body = self.bodies.get(request.path)
        if body is None:
            return Response("not here", status=404)
        return Response(body, content_type="text/html; charset=utf-8")

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/p/{n}"

    def close(self) -> None:
        self.server.shutdown()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def run_feedsvc(plans: list[Plan], tmp: Path, tally: Tally) -> float:
    """Every plan through Updater.poll() into a Store; returns CPU seconds."""
    upstream = Upstream()
    urls = [upstream.url(n) for n in range(len(plans))]
    settings = config.from_mapping(
        {
            "service": {"database": f"sqlite:///{tmp}/revisions.db", "listen": "127.0.0.1:9"},
            "scheduler": {"interval": "1d", "concurrency": 2, "per_host": 2},
            "fetch": {"timeout": 60},
            "feeds": [{"name": "corpus", "sources": urls}],
        },
        tmp / "config.toml",
    )
    store = Store(settings.service.database)
    clock = Clock()
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    texts: list[list[str]] = [[] for _ in plans]
    counts: list[list[int]] = [[] for _ in plans]
    current: list[str] = [""] * len(plans)
    cpu = time.process_time()
    try:
        for step in range(6):
            for n, p in enumerate(plans):
                body = p.bodies[step]
                if body is not None:
                    current[n] = body
                upstream.bodies[f"/p/{n}"] = current[n].encode("utf-8", "replace")
            clock.now += timedelta(days=1)
            updater.poll("bench", due_only=False)
            for n, url in enumerate(urls):
                try:
                    aid = store.find_article(url).id
                    versions = store.get_versions(aid, full=True)
                except Exception:
                    versions = []
                counts[n].append(len(versions))
                texts[n].append(versions[-1].text if versions else "")
            print(f"feedsvc: step {step} polled", file=sys.stderr)
    finally:
        updater.close()
        store.close()
        upstream.close()
    cpu = time.process_time() - cpu
    for n, p in enumerate(plans):
        tally.pages += 1
        if not counts[n][0] or not mutations.extracted(p.block, texts[n][0]):
            continue
        tally.extracted += 1
        if counts[n][1] > counts[n][0]:
            tally.false_revisions.append(p.url)
        for step, edit in p.edits.items():
            tally.edits[edit.kind] += 1
            made = counts[n][step] > counts[n][step - 1]
            if not made or not mutations.applied(edit, texts[n][step]):
                tally.missed.append((p.url, edit.kind))
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    parser.add_argument("--every", type=int, default=1, help="every K-th page only")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if corpus.tarball() is None:
        sys.exit(f"no corpus at {corpus.TARBALL}")
    urls = list(corpus.annotations())[:: args.every][: args.limit or None]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        plans = [p for p in pool.map(plan, corpus.pages(urls), chunksize=4) if p is not None]
        baselines = pool.map(baseline_texts, [p.bodies for p in plans], chunksize=4)
        with tempfile.TemporaryDirectory() as tmp:
            ours = Tally()
            cpu = run_feedsvc(plans, Path(tmp), ours)
        tallies = {"trafilatura": Tally(), "readability": Tally()}
        for p, texts in zip(plans, baselines, strict=True):
            for name, tally in tallies.items():
                score_texts(p, texts[name], tally)
    wall = time.perf_counter() - started
    print(
        f"{platform.node()}: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, trafilatura {trafilatura.__version__}; "
        f"{len(plans)} pages, {wall:.0f} s wall, feedsvc ingest {cpu:.0f} s CPU\n"
    )
    rows = {"feedsvc (Updater.poll into a Store)": ours}
    rows["plain trafilatura.extract() text"] = tallies["trafilatura"]
    rows["readability-lxml summary text"] = tallies["readability"]
    print(
        "| pipeline | pages | article extracted | false revisions | edits | missed edits "
        "(word/number/append/removal) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, t in rows.items():
        by_kind = Counter(kind for _, kind in t.missed)
        kinds = "/".join(str(by_kind[k]) for k in STEPS[1:])
        share = 100 * len(t.false_revisions) / t.extracted if t.extracted else 0.0
        print(
            f"| {name} | {t.pages} | {t.extracted} | {len(t.false_revisions)} ({share:.1f}%) "
            f"| {sum(t.edits.values())} | {len(t.missed)} ({kinds}) |"
        )
    for name, t in rows.items():
        if t.false_revisions or t.missed:
            print(f"\n{name}:")
            for url in t.false_revisions:
                print(f"- false revision: {url}")
            for url, kind in t.missed:
                print(f"- missed {kind}: {url}")


if __name__ == "__main__":
    main()
