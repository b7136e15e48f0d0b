"""The newsroom every serving test works in: feeds whose sources are folders
of .txt stories (one folder per feed, named like the feed), written revision
by revision and polled in between by the real Updater on a hand-moved
clock, a store on the test's backend, and the web app over the same store.
Every version in the store was made the way production makes it (local
source -> updater)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from feedsvc.config import Settings
from feedsvc.models import ArticleRow
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

# The one story of the tests: the Harbour bridge, revised through the day.
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

HEADLINE = VERSIONS[0][0]
# One paragraph for stories whose text does not matter to a test.
PARAGRAPH = f"{P1} {P2}"
# The same five versions as (title, paragraphs), for Newsroom.publish.
BRIDGE: list[tuple[str, list[str]]] = [(title, paragraphs) for title, paragraphs, _ in VERSIONS]


TITLES = {"city": "City News", "news": "Harbour news"}


class Newsroom:
    """Feeds (default one, "city") whose sources are folders of .txt stories.
    `service` overrides [service] settings (entries_per_page, hub, ...)."""

    def __init__(
        self,
        tmp_path: Path,
        make_settings: Any,
        store_for: Any,
        clock: Any,
        feeds: tuple[str, ...] = ("city",),
        **service: Any,
    ) -> None:
        self.root = tmp_path
        for name in feeds:
            (tmp_path / name).mkdir()
        self.feeds = feeds
        self.clock = clock
        self.settings: Settings = make_settings(
            [
                {"name": name, "title": TITLES.get(name, name.title()), "sources": [name]}
                for name in feeds
            ],
            service=service,
        )
        self.store: Store = store_for(self.settings)
        self.store.sync_sources(self.settings.feeds, clock())
        self.updater = Updater(self.settings, self.store, clock=clock)
        self.app: Flask = create_app(self.settings, self.store)
        self.app.testing = True
        self.client: FlaskClient = self.app.test_client()

    def write(self, slug: str, title: str, *paragraphs: str, feed: str | None = None) -> None:
        """Write (or rewrite) a story; the next poll picks it up."""
        text = title + "\n\n" + "\n\n".join(paragraphs or (PARAGRAPH,)) + "\n"
        (self.root / (feed or self.feeds[0]) / f"{slug}.txt").write_text(text, encoding="utf-8")

    def poll(self, seconds: float = 60) -> None:
        """Move the clock on, then poll every source: none may fail."""
        self.clock.advance(seconds)
        for outcome in self.updater.poll("test", due_only=False):
            assert outcome.error is None, outcome.error

    def publish(self, slug: str, revisions: list[tuple[str, list[str]]]) -> ArticleRow:
        """Write each revision of a story and poll 20 minutes after each:
        one version each."""
        for title, paragraphs in revisions:
            self.write(slug, title, *paragraphs)
            self.poll(20 * 60)
        article = self.article(slug)
        assert article.latest_version == len(revisions)
        return article

    def article(self, slug: str = "bridge", feed: str | None = None) -> ArticleRow:
        # Local articles are keyed by their path relative to config.toml.
        return self.store.find_article(f"{feed or self.feeds[0]}/{slug}.txt")

    def close(self) -> None:
        self.updater.close()
