"""How long main-text extraction takes per article page, and what it keeps.

    python bench/extract.py [--runs N]

For each test page (tests/data/pages/TEMPLATE/vN.html): its size, the
median and slowest time of extract_article() over N runs (trafilatura with
feedsvc's settings and prune rules, then the boilerplate filter), and the
words kept against the words of the page's visible text.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedsvc.extract import EXTRACTOR, extract_article  # noqa: E402
from feedsvc.revisions import normalise, word_count  # noqa: E402
from feedsvc.text import html_to_text  # noqa: E402

PAGES = ROOT / "tests" / "data" / "pages"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"{EXTRACTOR}, Python {sys.version.split()[0]}, {args.runs} runs per page\n")
    print("| page | bytes | median ms | max ms | words kept / on page |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for path in sorted(PAGES.glob("*/*.html")):
        html = path.read_text(encoding="utf-8")
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            entry = extract_article(html, "https://example.org/story")
            times.append((time.perf_counter() - start) * 1000)
        kept = word_count(normalise(entry.text or html_to_text(entry.html)))
        visible = word_count(normalise(html_to_text(html)))
        name = path.relative_to(PAGES).as_posix()
        print(
            f"| {name} | {len(html.encode()):,} | {statistics.median(times):.1f} "
            f"| {max(times):.1f} | {kept} / {visible} |"
        )


if __name__ == "__main__":
    main()
