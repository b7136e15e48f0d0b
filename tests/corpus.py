"""trafilatura's evaluation corpus (../shared/corpora, see its README.md),
read straight from its tarball: the annotations and the raw pages, unpacked
once per process into a temporary directory, only the members asked for.

Used by tests/test_extract_corpus.py and the benchmarks in bench/; never
commit the pages themselves.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARBALL = ROOT.parent / "shared" / "corpora" / "trafilatura-eval.tar.xz"


@dataclass(frozen=True)
class CorpusPage:
    url: str
    file: str
    with_: tuple[str, ...]  # snippets the article text must contain
    without: tuple[str, ...]  # snippets it must not (navigation, footers, dates, ads)
    body: bytes  # the page as downloaded


def tarball() -> Path | None:
    """Where the corpus is: FEEDSVC_CORPUS, else ../shared/corpora beside the
    repository (None when it is absent)."""
    path = Path(os.environ.get("FEEDSVC_CORPUS", TARBALL))
    return path if path.is_file() else None


@cache
def _unpacked() -> Path:
    return Path(tempfile.mkdtemp(prefix="feedsvc-corpus-"))


@cache
def annotations() -> dict[str, dict[str, list[str] | str]]:
    """evaldata.json: URL -> {"file", "with", "without"}."""
    found = tarball()
    if found is None:
        raise FileNotFoundError(TARBALL)
    return dict(json.loads(_extract(found, ["evaldata.json"])["evaldata.json"]))


def _extract(path: Path, names: list[str]) -> dict[str, bytes]:
    """The members `names` (paths inside the tarball, any directory), read
    from the unpack cache or unpacked into it in one pass over the archive."""
    out: dict[str, bytes] = {}
    missing = set()
    for name in names:
        cached = _unpacked() / name
        if cached.is_file():
            out[name] = cached.read_bytes()
        else:
            missing.add(name)
    if not missing:
        return out
    with tarfile.open(path, "r:xz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = Path(member.name).parts
            # eval/NAME, cache/NAME or evaldata.json, under an optional top directory
            candidates = {"/".join(parts[-2:]), parts[-1]}
            hit = candidates & missing
            if not hit:
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            data = handle.read()
            for name in hit:
                target = _unpacked() / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                out[name] = data
                missing.discard(name)
            if not missing:
                break
    return out


def pages(urls: list[str] | None = None) -> list[CorpusPage]:
    """The corpus pages (all of them, or those of `urls`), in evaldata order."""
    data = annotations()
    chosen = list(data) if urls is None else urls
    wanted: list[str] = []
    for url in chosen:
        name = str(data[url]["file"])
        wanted += [f"eval/{name}", f"cache/{name}"]
    found = tarball()
    assert found is not None
    files = _extract(found, wanted)
    out = []
    for url in chosen:
        item = data[url]
        name = str(item["file"])
        body = files.get(f"eval/{name}") or files.get(f"cache/{name}")
        if body is None:
            continue
        out.append(CorpusPage(url, name, tuple(item["with"]), tuple(item["without"]), body))
    return out


def norm(text: str) -> str:
    """Whitespace folded, as trafilatura's evaluation matches snippets."""
    return " ".join(text.split())


def found(snippets: tuple[str, ...], text: str) -> list[str]:
    """The snippets present in `text` (whitespace-insensitive)."""
    flat = norm(text)
    return [s for s in snippets if norm(s) in flat]
