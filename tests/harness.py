"""What tests import (conftest.py only holds fixtures): the hand-moved
clock, the fake web (for tests that need no HTTP server), settings written
as a real config.toml, a PostgreSQL schema of a test's own, and the
environment for `python -m feedsvc` subprocesses."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from feedsvc import config
from feedsvc.fetch import Fetcher

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
ATOM = "{http://www.w3.org/2005/Atom}"
PG_ENV = "FEEDSVC_TEST_DATABASE_URL"
PG_SKIP = f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Canned:
    """One resource of the fake web: its body and headers, and its ETag
    (derived from the body unless given; None: the server sends none)."""

    body: bytes
    content_type: str
    status: int = 200
    etag: str | None = None


class FakeWeb:
    """The web, for tests that need no HTTP server: resources by URL,
    answered through httpx.MockTransport to the real Fetcher (so redirects,
    conditional GETs, size limits and decoding run as in production) with
    no socket. A resource answers 304 to its own ETag; an unknown URL 404.
    `requests` records (url, If-None-Match) in order. The HTTP tests keep
    real servers (pytest-httpserver, werkzeug): this is for the updater's
    logic, where a server adds only time."""

    def __init__(self) -> None:
        self.resources: dict[str, Canned] = {}
        self.requests: list[tuple[str, str | None]] = []

    def publish(
        self, url: str, body: str | bytes, content_type: str = "text/html; charset=utf-8"
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        self.resources[url] = Canned(data, content_type, etag=etag)

    def remove(self, url: str, status: int = 404) -> None:
        self.resources[url] = Canned(b"", "text/plain", status=status)

    def fetched(self, url: str) -> int:
        """How many times `url` was asked for, 304s included."""
        return sum(1 for u, _ in self.requests if u == url)

    def answer(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        asked = request.headers.get("if-none-match")
        self.requests.append((url, asked))
        res = self.resources.get(url)
        if res is None:
            return httpx.Response(404, headers={"content-type": "text/plain"})
        headers = {"content-type": res.content_type}
        if res.etag is not None:
            headers["etag"] = res.etag
            if asked == res.etag:
                return httpx.Response(304, headers=headers)
        # A stream, as from a socket: the Fetcher reads raw chunks.
        return httpx.Response(res.status, stream=httpx.ByteStream(res.body), headers=headers)

    def fetcher(self, clock: Callable[[], datetime]) -> Fetcher:
        """A Fetcher whose every request this fake web answers."""
        return Fetcher("feedsvc-test", transport=httpx.MockTransport(self.answer), clock=clock)


def pg_schema_url(base: str) -> tuple[str, str]:
    """A fresh schema name, and `base` with that schema as its search path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def feeds_toml(feeds: list[dict[str, Any]]) -> str:
    out = []
    for feed in feeds:
        out.append("[[feeds]]")
        for key, value in feed.items():
            out.append(f"{key} = {toml_value(value)}")
        out.append("")
    return "\n".join(out)


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for running `python -m feedsvc` in a subprocess: this
    checkout first on the path, whether or not it is pip-installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop(config.ENV_CONFIG, None)
    env.update(extra)
    return env


def rfc4287() -> etree.RelaxNG:
    """The Atom schema (RFC 4287's RELAX NG), to validate documents against."""
    return etree.RelaxNG(etree.parse(str(DATA / "atom.rng")))


def links(doc: etree._Element, rel: str) -> list[str]:
    """The hrefs of an Atom document's links with this rel."""
    return [
        link.get("href")
        for link in doc.findall(f"{ATOM}link")
        if link.get("rel", "alternate") == rel
    ]
