"""Every entry point that processes upstream text runs in linear time.

Each entry point is run on adversarial inputs (unclosed tags, long runs of
one character, deep nesting) at two sizes, n and 8n. Linear code takes about
8 times as long on the bigger one; a quadratic one 64 times. The ratio is
taken within one run, so a slow or busy machine slows both sizes alike.
(`"<a " * 300000` used to freeze the whole service in flatten_deep.)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from feedsvc import charset, local, nesting, parse, revisions, text
from feedsvc.extract import extract_article
from feedsvc.patterns import compile_linear

ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "unclosed tags": lambda n: "<a " * n,
    "lone <": lambda n: "<" * n,
    "unclosed comments": lambda n: "<!--" * n,
    "unclosed titles": lambda n: "<title>" * n,
    "unclosed meta charset": lambda n: "<meta charset=" * n,
    "a run of one letter": lambda n: "a" * (4 * n),
    "blank lines": lambda n: " \n" * n,
    "deep nesting": lambda n: "<div>" * n + "x" + "</div>" * n,
    "open tags without end": lambda n: "<div><p>" * n,
    "end tags far below": lambda n: "<div>" + "<i>" * 40 + "</div>" * n,
    "unclosed paragraphs and items": lambda n: "<ul><li><p>" * n,
    "bidi overrides": lambda n: "\u202e" * n,
    "correction notices": lambda n: "\n\ncorrection" * n,
}

IGNORE = (compile_linear(r"^\d+ (comments?|shares?)$"),)


def _feed(body: str) -> bytes:
    escaped = body.replace("&", "&amp;").replace("<", "&lt;")
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        f"<item><guid>1</guid><title>{escaped[:2000]}</title>"
        f"<description>{escaped}</description></item></channel></rss>"
    ).encode()


ENTRY_POINTS: dict[str, Callable[[str], object]] = {
    "nesting.flatten_deep": nesting.flatten_deep,
    "text.sanitize_html": text.sanitize_html,
    "text.html_to_text": text.html_to_text,
    "text.strip_tags": text.strip_tags,
    "text.element_text": lambda s: text.element_text(s, "title"),
    "text.strip_controls": text.strip_controls,
    "text.web_url": lambda s: text.web_url("http://127.0.0.1/" + s),
    "revisions.normalise": lambda s: revisions.normalise(s, IGNORE),
    "revisions.normalise_title": revisions.normalise_title,
    "revisions.is_boilerplate": revisions.is_boilerplate,
    "revisions.word_count": revisions.word_count,
    "revisions.classify": lambda s: revisions.classify(
        "t", "old text", "t", s, words_added=1, words_removed=0
    ),
    "charset.decode_html": lambda s: charset.decode_html(s.encode()),
    "local.parse_file .html": lambda s: local.parse_file(s.encode(), "k", ".html"),
    "local.parse_file .txt": lambda s: local.parse_file(s.encode(), "k", ".txt"),
    "parse.looks_like_feed": lambda s: parse.looks_like_feed(s.encode(), "text/html"),
    "parse.parse_feed": lambda s: parse.parse_feed(_feed(s), "http://127.0.0.1/f"),
    "extract.extract_article": lambda s: extract_article(
        nesting.flatten_deep(s), "http://127.0.0.1/a"
    ),
}

# Linear is 8x; allow four times that for caches, page faults and noise.
# Quadratic is 64x (the old flatten_deep, tag stripper and title finder
# measured 59x to 80x here).
MAX_RATIO = 32
# n grows until the small run takes this long, so that timer noise and the
# jump from CPU cache to memory (inputs of a few hundred KB) do not count as
# growth; a quadratic function reaches it early and then takes 64 times it.
MIN_SMALL_TIME = 0.015
MAX_N = 128_000


def _time(fn: Callable[[str], object], value: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.suppress(Exception):  # refusing is fine; taking long is not
            fn(value)
        best = min(best, time.perf_counter() - start)
    return best


def _growth(fn: Callable[[str], object], make: Callable[[int], str]) -> tuple[int, float, float]:
    """(n, time at n, time at 8n), with n big enough to measure."""
    n = 1000
    fn(make(n))  # warm up caches and lazy imports
    while (t_small := _time(fn, make(n), runs=2)) < MIN_SMALL_TIME and n < MAX_N:
        n *= 2
    t_big = _time(fn, make(8 * n), runs=1)
    if t_big > MAX_RATIO * max(t_small, MIN_SMALL_TIME):  # a hiccup on a busy machine?
        t_small = max(t_small, _time(fn, make(n), runs=2))
        t_big = min(t_big, _time(fn, make(8 * n), runs=1))
    return n, t_small, t_big


@pytest.mark.slow
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_time_grows_linearly_with_adversarial_input(entry_point: str) -> None:
    fn = ENTRY_POINTS[entry_point]
    too_slow = []
    for name, make in ADVERSARIAL.items():
        n, t_small, t_big = _growth(fn, make)
        if t_big > MAX_RATIO * max(t_small, MIN_SMALL_TIME):
            too_slow.append(f"{name}: {t_small:.3f}s at n={n}, {t_big:.3f}s at 8n")
    assert not too_slow, f"{entry_point} grows faster than its input: " + "; ".join(too_slow)
