"""A developing story told in five versions, written to a local folder and
polled into a real store, for the page, crawl, CLI and browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.config import Settings
from feedsvc.models import ArticleRow
from feedsvc.pool import poll_sources
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

P1 = (
    "Engineers closed the Harbour Bridge early on Tuesday after an overnight inspection "
    "found cracks in a steel beam of the main span."
)
P2 = "Ferries will run every ten minutes in both directions until further notice."
P3 = (
    "On Wednesday the city said two more cracks had been found and that the bridge would "
    "stay closed for at least a month while a temporary support is built."
)
P4 = "Commuters queued for up to forty minutes at the ferry terminal on Thursday morning."
MARKER = "More details to follow."
CORRECTION = (
    "Correction: an earlier version of this story said the bridge closed on Tuesday. "
    "It closed on Monday."
)

# (title, paragraphs, the class the revision should get)
VERSIONS: list[tuple[str, list[str], str]] = [
    ("Harbour bridge closed", [P1, P2, MARKER], "initial"),
    ("Harbour bridge closed", [P1, P2, P3, MARKER], "append"),
    ("Harbour bridge closed for a month", [P1, P2, P3, MARKER], "headline"),
    ("Harbour bridge closed for a month", [P1.replace("Tuesday", "Monday"), P3, P2, P4], "edit"),
    (
        "Harbour bridge closed for a month",
        [P1.replace("Tuesday", "Monday"), P3, P2, P4, CORRECTION],
        "correction",
    ),
]


@dataclass
class Site:
    settings: Settings
    store: Store
    updater: Updater
    folder: Path
    clock: Any
    app: Flask

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    def article(self, name: str = "bridge.txt") -> ArticleRow:
        return self.store.find_article(f"stories/{name}")

    def publish(self, name: str, title: str, paragraphs: list[str]) -> None:
        (self.folder / name).write_text(
            title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )
        self.poll()

    def write(self, name: str, content: str) -> None:
        (self.folder / name).write_text(content, encoding="utf-8")
        self.poll()

    def poll(self) -> None:
        self.clock.advance(600)
        outcomes = poll_sources(self.updater, "test", due_only=False)
        assert all(o.error is None for o in outcomes), outcomes


def make_site(
    tmp_path: Path,
    make_settings: Any,
    store_for: Any,
    clock: Any,
    versions: int = 5,
    service: dict[str, Any] | None = None,
) -> Site:
    """A feed "city" over a local folder holding bridge.txt, polled once per
    version of the story (up to five), ten minutes apart. `service`
    overrides [service] settings (base_url, say)."""
    folder = tmp_path / "stories"
    folder.mkdir()
    settings = make_settings(
        [{"name": "city", "title": "City News", "sources": ["stories"]}], service=service
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    site = Site(settings, store, updater, folder, clock, create_app(settings, store))
    for title, paragraphs, _ in VERSIONS[:versions]:
        site.publish("bridge.txt", title, paragraphs)
    return site


ATOM = "application/atom+xml"


def page(site: Site, path: str) -> lxml.html.HtmlElement:
    """GET an HTML page of the site, check it is one, and parse it."""
    response = site.client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.get_data(as_text=True))


def text_of(doc: lxml.html.HtmlElement, selector: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in doc.cssselect(selector)]


def discovery(doc: lxml.html.HtmlElement) -> list[str]:
    """The Atom feeds a page advertises."""
    return [el.get("href") for el in doc.cssselect(f'link[rel="alternate"][type="{ATOM}"]')]


def pages_of(site: Site) -> list[str]:
    """Every HTML page about the site's article: index, timeline, each
    version, each step's diff inline and side by side."""
    aid = site.article().id
    n = site.article().latest_version
    paths = ["/", f"/articles/{aid}"]
    paths += [f"/articles/{aid}/versions/{k}" for k in range(1, n + 1)]
    paths += [f"/articles/{aid}/diff/{k}...{k + 1}" for k in range(1, n)]
    paths += [f"/articles/{aid}/diff/{k}...{k + 1}?view=side" for k in range(1, n)]
    return paths
