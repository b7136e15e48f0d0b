"""Main-text extraction on trafilatura's evaluation corpus (990 real pages).

    python bench/extract_corpus.py [--before REV] [--limit N] [--jobs N]

Scores, in one run over the same pages, plain `trafilatura.extract()` with
its defaults and with the settings of trafilatura's own evaluation (no
comments, tables, no formatting: feedsvc's settings, and the run issue 10's
numbers come from), each also with `favor_precision=True`, and feedsvc's
`extract_article` as it was at git revision REV (default 177227f, before
issue 10) and as it is now. The recipe is trafilatura's tests/evaluate.py:
over every page, a `with` snippet found in the text is a true positive,
missed a false negative; a `without` snippet found is a false positive;
whitespace is folded before matching. extract_article is scored on what
feedsvc stores: the body (normalised) and the headline, stored apart as the
title; on the body alone, and on both (headline line, then the body). CPU is
process time per page. Then every page where extract_article's stored
headline and body keep fewer `with` snippets than trafilatura's text (with
the evaluation settings, then with the defaults), with the snippets lost.

The corpus is read from ../shared/corpora/trafilatura-eval.tar.xz beside
the repository (or FEEDSVC_CORPUS).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from feedsvc.charset import decode_html  # noqa: E402
from feedsvc.nesting import flatten_deep  # noqa: E402
from feedsvc.revisions import normalise  # noqa: E402
from feedsvc.text import html_to_text  # noqa: E402
from tests import corpus  # noqa: E402

Extractor = Callable[[str, str], str]


def plain(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def precision(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url, favor_precision=True) or ""


def evaluation(html: str, url: str, favor_precision: bool = False) -> str:
    """trafilatura as its own evaluation runs it (tests/eval_common.py
    EXTRACT_OPTS): no comments, tables, no formatting. feedsvc's settings
    too, and the run the corpus README's and issue 10's numbers come from."""
    text = trafilatura.extract(
        html,
        url=url,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        favor_precision=favor_precision,
    )
    return text or ""


def evaluation_precision(html: str, url: str) -> str:
    return evaluation(html, url, favor_precision=True)


def _feedsvc(module: object) -> Extractor:
    def run(html: str, url: str) -> str:
        entry = module.extract_article(flatten_deep(html), url)  # type: ignore[attr-defined]
        body = normalise(entry.text if entry.text is not None else html_to_text(entry.html))
        return f"{entry.title}{TITLE_SEP}{body}"

    return run


# feedsvc stores the headline apart from the body: its extractors answer
# "title TITLE_SEP body", scored twice (the body alone, and both).
TITLE_SEP = "\n\x00\n"


def _module_at(rev: str) -> object:
    """feedsvc/extract.py as it was at git revision `rev`, imported apart."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:feedsvc/extract.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / f"extract_{rev}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"extract_{rev}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    cpu: list[float] = field(default_factory=list)
    empty: int = 0
    kept: dict[str, list[str]] = field(default_factory=dict)  # url -> `with` snippets found

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


_EXTRACTORS: dict[str, Extractor] = {}
PLAIN = "trafilatura extract() defaults"
EVALUATED = "trafilatura evaluation settings (no comments)"


def _setup(before: str) -> None:
    import feedsvc.extract
    from feedsvc import isolation

    # extract_article in this process: CPU per page is measured here, and a
    # pool of parser children would hide it
    isolation.configure(isolation.Limits(workers=0))
    _EXTRACTORS.clear()
    _EXTRACTORS[PLAIN] = plain
    _EXTRACTORS["trafilatura favor_precision=True"] = precision
    _EXTRACTORS[EVALUATED] = evaluation
    _EXTRACTORS["trafilatura evaluation settings, favor_precision=True"] = evaluation_precision
    _EXTRACTORS[f"feedsvc extract_article at {before}"] = _feedsvc(_module_at(before))
    _EXTRACTORS["feedsvc extract_article now"] = _feedsvc(feedsvc.extract)


def _one(page: corpus.CorpusPage) -> dict[str, tuple[str, float]]:
    html = decode_html(page.body, None)
    out = {}
    for name, fn in _EXTRACTORS.items():
        start = time.process_time()
        try:
            text = fn(html, page.url)
        except Exception as exc:  # a crash is a full miss, as in evaluate.py
            print(f"{name} on {page.file}: {exc!r}", file=sys.stderr)
            text = ""
        cpu = time.process_time() - start
        if TITLE_SEP in text:
            title, _, body = text.partition(TITLE_SEP)
            out[f"{name} (body)"] = (body, cpu)
            out[f"{name} (title + body)"] = (f"{title}\n\n{body}", cpu)
        else:
            out[name] = (text, cpu)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default="177227f")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    if corpus.tarball() is None:
        sys.exit(f"no corpus at {corpus.TARBALL}")
    data = corpus.annotations()
    urls = list(data)[: args.limit or None]
    pages = corpus.pages(urls)
    _setup(args.before)
    scores: dict[str, Score] = {}
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, initializer=_setup, initargs=(args.before,)) as pool:
        for page, results in zip(pages, pool.map(_one, pages, chunksize=4), strict=True):
            for name, (text, cpu) in results.items():
                s = scores.setdefault(name, Score())
                kept = corpus.found(page.with_, text)
                leaked = corpus.found(page.without, text)
                s.tp += len(kept)
                s.fn += len(page.with_) - len(kept)
                s.fp += len(leaked)
                s.tn += len(page.without) - len(leaked)
                s.cpu.append(cpu)
                s.empty += not text.strip()
                s.kept[page.url] = kept
    wall = time.perf_counter() - started
    print(
        f"{platform.node()}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"trafilatura {trafilatura.__version__}; {len(pages)} pages, {args.jobs} jobs, "
        f"{wall:.0f} s wall\n"
    )
    print("| extractor | precision | recall | F1 | CPU ms/page (median, mean) | empty |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, s in scores.items():
        print(
            f"| {name} | {s.precision():.3f} | {s.recall():.3f} | {s.f1():.3f} "
            f"| {statistics.median(s.cpu) * 1000:.0f}, {statistics.mean(s.cpu) * 1000:.0f} "
            f"| {s.empty} |"
        )
    for baseline in (EVALUATED, PLAIN):
        _losing(pages, scores, baseline)


def _losing(pages: list[corpus.CorpusPage], scores: dict[str, Score], baseline: str) -> None:
    """Every page where feedsvc's stored headline and body keep fewer `with`
    snippets than the baseline's text, with the snippets lost."""
    reference = scores[baseline]
    for name in [n for n in scores if n.endswith("(title + body)")]:
        s = scores[name]
        losing = []
        for page in pages:
            lost = [w for w in reference.kept[page.url] if w not in s.kept[page.url]]
            if lost:
                losing.append((page, lost))
        excused = sum(
            all(any(corpus.norm(o) in corpus.norm(w) for o in page.without) for w in lost)
            for page, lost in losing
        )
        print(
            f"\n{name}: {len(losing)} pages keep fewer `with` snippets than {baseline} "
            f"({excused} of them only snippets holding a `without` one)"
        )
        for page, lost in losing:
            shown = "; ".join(repr(w[:60]) for w in lost)
            print(f"- {page.file}: {shown}")


if __name__ == "__main__":
    main()
