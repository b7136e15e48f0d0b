"""What a hostile feed costs to read: feedparser alone (what feedsvc did
at first) against feedsvc's parse_feed with its guards, and the HTML path
(html_to_text + sanitize_html) for deep nesting.

Each case runs in a fresh process; "peak MB" is the growth of that
process's peak resident memory over its baseline after imports. A case
that runs past --timeout is stopped and shown as such.

    python bench/hostile.py [--timeout SECONDS]

Nothing here is asserted: tests/test_hostile_input.py holds the limits.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from collections.abc import Callable
from io import BytesIO
from multiprocessing import Queue
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def item(i: int, body: str) -> str:
    return f"<item><guid>urn:{i}</guid><title>Story {i}</title><description>{body}</description></item>"


def rss(items: str) -> bytes:
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Bench</title>"
        f"{items}</channel></rss>"
    ).encode()


def laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    for n in range(1, 10):
        entities.append(f'<!ENTITY lol{n} "' + f"&lol{n - 1};" * 10 + '">')
    body = rss(item(1, "&lol9;")).split(b"?>", 1)[1]
    return b"<?xml version='1.0'?><!DOCTYPE rss [" + "".join(entities).encode() + b"]>" + body


def cases() -> dict[str, bytes]:
    return {
        "100,000 entries": rss(
            "".join(f"<item><guid>w{i}</guid><title>S{i}</title></item>" for i in range(100_000))
        ),
        "one 5 MB entry": rss(
            item(1, "&lt;p&gt;Paragraph of a very long story.&lt;/p&gt;" * 110_000)
        ),
        "billion laughs": laughs(),
        "30,000 nested divs": rss(item(1, "&lt;div&gt;" * 30_000 + "x" + "&lt;/div&gt;" * 30_000)),
    }


def feedparser_alone(body: bytes) -> str:
    import feedparser

    parsed = feedparser.parse(BytesIO(body), sanitize_html=False)
    return f"{len(parsed.entries)} entries"


def feedsvc_parse(body: bytes) -> str:
    from feedsvc.errors import ParseError
    from feedsvc.parse import parse_feed

    try:
        data = parse_feed(body, "http://bench.test/feed.xml")
    except ParseError as exc:
        return f"refused: {str(exc).split(': ', 2)[1]}"
    return f"{len(data.entries)} entries" + (f" ({'; '.join(data.notes)})" if data.notes else "")


def nh3_alone(depth: int) -> str:
    import nh3

    nh3.clean("<div>" * depth + "x")
    return "cleaned"


def feedsvc_html(depth: int) -> str:
    from feedsvc.text import html_to_text, sanitize_html

    text = html_to_text("<div>" * depth + "x" + "</div>" * depth + "<p>after</p>")
    sanitize_html("<div>" * depth + "x")
    return f"text {text.split()!r}"


def _child(fn: Callable[..., str], arg: object, out: Queue) -> None:  # type: ignore[type-arg]
    import feedparser  # noqa: F401 (imports count in the baseline, not the case)
    import lxml.html  # noqa: F401
    import nh3  # noqa: F401

    import feedsvc.parse
    import feedsvc.text  # noqa: F401

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = fn(arg)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    out.put((result, seconds, peak / 1024))


def run(fn: Callable[..., str], arg: object, timeout: float) -> tuple[str, str, str]:
    out: Queue = Queue()  # type: ignore[type-arg]
    proc = multiprocessing.Process(target=_child, args=(fn, arg, out))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return f"stopped after {timeout:g} s", f"> {timeout:g}", "?"
    result, seconds, peak = out.get()
    return result, f"{seconds:.2f}", f"{peak:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    print("| input | size | reader | outcome | seconds | peak MB |")
    print("| --- | ---: | --- | --- | ---: | ---: |")
    for name, body in cases().items():
        for reader, fn in (
            ("feedparser alone", feedparser_alone),
            ("feedsvc parse_feed", feedsvc_parse),
        ):
            outcome, seconds, peak = run(fn, body, args.timeout)
            print(f"| {name} | {len(body):,} B | {reader} | {outcome} | {seconds} | {peak} |")
            sys.stdout.flush()
    for reader, fn in (("nh3 alone", nh3_alone), ("feedsvc text", feedsvc_html)):
        outcome, seconds, peak = run(fn, 50_000, args.timeout)
        print(f"| 50,000 nested divs (HTML) | | {reader} | {outcome} | {seconds} | {peak} |")


if __name__ == "__main__":
    main()
