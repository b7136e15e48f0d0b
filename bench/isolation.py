"""What parsing in child processes costs: each document parsed in this
process (read_feed / read_article, the baseline) against the same through
the pool of children (parse_feed / extract_article, what feedsvc does).

Documents: a 50-entry RSS feed, the 1000-entry feed feedsvc keeps at most,
and the article pages of tests/data/pages. Both ways run alternately in one
process, so a busy machine slows both alike; the table gives the median
per document and the ratio. The children are started before timing (their
start, about a second once per child, is a cost per process, not per
document).

    python bench/isolation.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedsvc import isolation  # noqa: E402
from feedsvc.extract import extract_article, read_article  # noqa: E402
from feedsvc.parse import parse_feed, read_feed  # noqa: E402


def feed(entries: int) -> bytes:
    items = (
        "".join(
            f"<item><guid>urn:{i}</guid><title>Story {i}</title><link>http://127.0.0.1/{i}</link>"
            f"<description>{'<p>A paragraph of the story, with some words in it.</p>' * 8}"
            "</description></item>"
            for i in range(entries)
        )
        .replace("<p>", "&lt;p&gt;")
        .replace("</p>", "&lt;/p&gt;")
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>http://127.0.0.1/</link>{items}</channel></rss>"
    ).encode()


def timed(
    fn: Callable[[], object], rounds: int, other: Callable[[], object]
) -> tuple[float, float]:
    """Median seconds of fn and of other, run alternately."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        for fun, out in ((fn, a), (other, b)):
            start = time.perf_counter()
            fun()
            out.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    url = "http://127.0.0.1/doc"
    pages = sorted((ROOT / "tests" / "data" / "pages").glob("*/v*.html"))
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = []
    for entries in (50, 1000):
        body = feed(entries)
        cases.append(
            (
                f"feed, {entries} entries ({len(body) // 1024} KB)",
                lambda b=body: read_feed(b, url),
                lambda b=body: parse_feed(b, url),
            )
        )
    for page in pages:
        html = page.read_text(encoding="utf-8")
        cases.append(
            (
                f"page {page.parent.name}/{page.name} ({len(html) // 1024} KB)",
                lambda h=html: read_article(h, url),
                lambda h=html: extract_article(h, url),
            )
        )

    isolation.configure(isolation.Limits(workers=1))
    parse_feed(feed(1), url)  # start the child
    print(f"{args.rounds} rounds each, median per document")
    print("| document | in process (ms) | in a child (ms) | overhead (ms) | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, here, child in cases:
        t_here, t_child = timed(here, args.rounds, child)
        print(
            f"| {name} | {t_here * 1000:.1f} | {t_child * 1000:.1f} | "
            f"{(t_child - t_here) * 1000:.1f} | {t_child / t_here:.2f} |"
        )
    start = time.perf_counter()
    pool = isolation.Pool(isolation.Limits(workers=1))
    pool.run("feedsvc.parse:read_feed", url, feed(1), url)
    print(
        f"\nstarting one child (interpreter, imports, warm-up): {time.perf_counter() - start:.2f} s"
    )
    pool.close()
    isolation.close()


if __name__ == "__main__":
    main()
