"""A small newsroom for the serving tests: a folder of articles that the test
writes and rewrites, polled by the real Updater on a hand-moved clock, and
the web app reading the same database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.config import Settings
from feedsvc.pool import poll_sources
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app
from tests.conftest import FakeClock

DATA = Path(__file__).parent / "data"
ATOM = "{http://www.w3.org/2005/Atom}"

PARAGRAPH = (
    "Engineers closed the Harbour Bridge to all traffic early on Tuesday after an "
    "overnight inspection found cracks in a steel beam of the main span. City officials "
    "said ferries would run every ten minutes in both directions until further notice."
)


class Newsroom:
    def __init__(self, make_settings: Any, tmp_path: Path, clock: FakeClock, **service: Any):
        self.folder = tmp_path / "articles"
        self.folder.mkdir()
        self.clock = clock
        self.settings: Settings = make_settings(
            feeds=[{"name": "news", "title": "Harbour news", "sources": [str(self.folder)]}],
            service=service,
        )
        self.store = Store(self.settings.service.database)
        self.store.sync_sources(self.settings.feeds, clock())
        self.updater = Updater(self.settings, self.store, clock=clock)
        self.app: Flask = create_app(self.settings, self.store)
        self.client: FlaskClient = self.app.test_client()

    def write(self, slug: str, title: str, *paragraphs: str) -> None:
        body = "\n\n".join(paragraphs or (PARAGRAPH,))
        (self.folder / f"{slug}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")

    def poll(self, advance: float = 60) -> None:
        self.clock.advance(advance)
        outcomes = poll_sources(self.updater, "test", due_only=False)
        assert [o.error for o in outcomes] == [None]

    def close(self) -> None:
        self.updater.close()
        self.store.close()


def rfc4287() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(DATA / "atom.rng")))


def links(doc: etree._Element, rel: str) -> list[str]:
    return [
        link.get("href")
        for link in doc.findall(f"{ATOM}link")
        if link.get("rel", "alternate") == rel
    ]
