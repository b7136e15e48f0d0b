"""How long the diff engine takes, on realistic and on hostile input.

    python bench/diff.py [--runs N]

Prints a table: the median and worst time of `N` runs of diff_texts (the
engine), and of revisions.decide (what the updater runs for every changed
article: the diff plus the classification). Texts are generated with a
fixed seed, so every run measures the same input. The target (issue 4): a
10,000-word article against a revision changing 5% of it, well under
100 ms.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedsvc.models import LatestVersion
from feedsvc.revisions import content_hash, decide
from feedsvc.textdiff import diff_texts

# A vocabulary with a long tail: a few words ("the", "of") are very common,
# which is what makes difflib's autojunk heuristic wrong on long texts.
COMMON = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "that",
    "is",
    "was",
    "he",
    "for",
    "it",
    "with",
    "as",
    "his",
    "on",
    "be",
    "at",
    "by",
    "had",
]


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)]


def article(rng: random.Random, words: int, vocab: list[str]) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    left = words
    while left > 0:
        n = min(left, rng.randint(40, 160))
        words_ = [
            rng.choice(COMMON) if rng.random() < 0.35 else rng.choice(vocab) for _ in range(n)
        ]
        # Sentences of 8 to 30 words.
        k = rng.randint(8, 30)
        while k < n:
            words_[k - 1] += "."
            k += rng.randint(8, 30)
        words_[-1] += "."
        paragraphs.append(words_)
        left -= n
    return paragraphs


def text(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paragraphs)


def scattered_edit(
    rng: random.Random, paras: list[list[str]], share: float, vocab: list[str]
) -> str:
    """Replace `share` of the words, in runs of 1-6 words all over the text."""
    out = [list(p) for p in paras]
    total = sum(len(p) for p in out)
    budget = int(total * share)
    while budget > 0:
        p = rng.choice(out)
        run = min(budget, rng.randint(1, 6), len(p))
        start = rng.randrange(0, len(p) - run + 1)
        p[start : start + run] = [rng.choice(vocab) for _ in range(run)]
        budget -= run
    return text(out)


def appended(rng: random.Random, paras: list[list[str]], share: float, vocab: list[str]) -> str:
    extra = article(rng, int(sum(len(p) for p in paras) * share), vocab)
    return text(paras + extra)


def timed(func: Callable[[], object], runs: int) -> tuple[float, float]:
    func()  # warm up
    times = []
    for _ in range(runs):
        # CPU time of this process: on a shared machine wall-clock time
        # mostly measures the neighbours.
        start = time.process_time()
        func()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times), max(times)


def cases(rng: random.Random) -> list[tuple[str, str, str]]:
    vocab = vocabulary(rng)
    base = article(rng, 10_000, vocab)
    old = text(base)
    one_para_old = " ".join(w for p in base for w in p)
    one_para_words = one_para_old.split()
    every_other = " ".join(w if i % 2 else "changed" for i, w in enumerate(one_para_words))
    shuffled = [" ".join(p) for p in base]
    rng.shuffle(shuffled)
    lines_old = "\n\n".join(f"line {i}" for i in range(5000))
    lines_new = "\n\n".join(f"line {i}" for i in range(5000)[::-1])
    return [
        ("10k words, 5% changed in scattered runs", old, scattered_edit(rng, base, 0.05, vocab)),
        ("10k words, 5% appended", old, appended(rng, base, 0.05, vocab)),
        ("10k words, identical", old, old),
        ("10k words, all paragraphs shuffled", old, "\n\n".join(shuffled)),
        ("10k words, replaced by other 10k words", old, text(article(rng, 10_000, vocab))),
        (
            "pathological: one 10k-word paragraph, 5% changed",
            one_para_old,
            scattered_edit(rng, [one_para_words], 0.05, vocab),
        ),
        (
            "pathological: one 10k-word paragraph, every other word changed",
            one_para_old,
            every_other,
        ),
        (
            "pathological: 'the' x 20k vs 'the cat' x 10k",
            " ".join(["the"] * 20_000),
            " ".join(["the", "cat"] * 10_000),
        ),
        ("pathological: 5,000 short paragraphs reversed", lines_old, lines_new),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(4)
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {platform.system()} {platform.release()}"
    )
    print(f"# median and worst of {args.runs} runs, CPU milliseconds (time.process_time)")
    print()
    print(f"| {'case':<64} | {'diff median':>11} | {'diff max':>8} | {'decide median':>13} |")
    print(f"| {'-' * 64} | {'-' * 11}:| {'-' * 8}:| {'-' * 13}:|")
    for name, old, new in cases(rng):
        latest = LatestVersion(
            1, "t", old, content_hash("t", old), datetime(2026, 1, 1, tzinfo=UTC)
        )
        median, worst = timed(lambda old=old, new=new: diff_texts("t", old, "t", new), args.runs)
        d_median, _ = timed(lambda latest=latest, new=new: decide(latest, {}, "t", new), args.runs)
        print(f"| {name:<64} | {median:>11.1f} | {worst:>8.1f} | {d_median:>13.1f} |")


if __name__ == "__main__":
    main()
