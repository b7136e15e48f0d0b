"""A newsroom for tests of what feedsvc serves: stories written to a folder
source revision by revision and polled in between, so every version in the
store was made the way production makes it (local source -> updater)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from feedsvc.config import Settings
from feedsvc.models import ArticleRow
from feedsvc.pool import poll_sources
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

HEADLINE = "Harbour bridge closed after cracks found in main span"
P1 = (
    "Engineers closed the Harbour Bridge to all traffic early on Tuesday morning after an "
    "overnight inspection found cracks in a steel beam of the main span."
)
P2 = (
    "City officials said ferries would run every ten minutes in both directions until "
    "further notice, and that buses would be diverted over the river crossing at Millbank."
)
P3 = (
    '"Nobody will drive over that span until we know it is safe," the city\'s chief '
    "engineer said at a short press conference on the quay."
)
P4 = (
    "On Wednesday the city said two more cracks had been found and that the bridge would "
    "stay closed for at least a month while a temporary support is built."
)
MARKER = "More details to follow."
CORRECTION = (
    "Correction: An earlier version of this story said the ferries run every ten minutes. "
    "They run every fifteen minutes."
)

# The bridge story as it was revised on the day: each item is (title, paragraphs).
BRIDGE: list[tuple[str, list[str]]] = [
    (HEADLINE, [P1, P2, P3, MARKER]),  # 1: first report, developing
    (HEADLINE, [P1, P2, P3, P4, MARKER]),  # 2: more details (append)
    ("Harbour bridge to stay shut for a month", [P1, P2, P3, P4, MARKER]),  # 3: headline
    ("Harbour bridge to stay shut for a month", [P1, P2.replace("ten", "fifteen"), P3, P4]),
    (
        "Harbour bridge to stay shut for a month",
        [P1, P2.replace("ten", "fifteen"), P3, P4, CORRECTION],
    ),
]


class Newsroom:
    """Feeds (default one, "city") whose sources are folders of .txt stories,
    one folder per feed, named like the feed."""

    def __init__(
        self,
        tmp_path: Path,
        make_settings: Any,
        store_for: Any,
        clock: Any,
        feeds: tuple[str, ...] = ("city",),
    ) -> None:
        self.root = tmp_path
        for name in feeds:
            (tmp_path / name).mkdir()
        self.clock = clock
        titles = {"city": "City News"}
        self.settings: Settings = make_settings(
            [
                {"name": name, "title": titles.get(name, name.title()), "sources": [name]}
                for name in feeds
            ]
        )
        self.store: Store = store_for(self.settings)
        self.store.sync_sources(self.settings.feeds, clock())
        self.updater = Updater(self.settings, self.store, clock=clock)

    def write(self, slug: str, title: str, paragraphs: list[str], feed: str = "city") -> None:
        text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
        (self.root / feed / f"{slug}.txt").write_text(text, encoding="utf-8")

    def poll(self, minutes: float = 20) -> None:
        self.clock.advance(minutes * 60)
        for outcome in poll_sources(self.updater, "test", due_only=False):
            assert outcome.error is None, outcome.error

    def publish(self, slug: str, revisions: list[tuple[str, list[str]]]) -> ArticleRow:
        """Write each revision of a story and poll after each: one version each."""
        for title, paragraphs in revisions:
            self.write(slug, title, paragraphs)
            self.poll()
        article = self.article(slug)
        assert article.latest_version == len(revisions)
        return article

    def article(self, slug: str, feed: str = "city") -> ArticleRow:
        # Local articles are keyed by their path relative to config.toml.
        return self.store.find_article(f"{feed}/{slug}.txt")

    def app(self) -> Flask:
        app = create_app(self.settings, self.store)
        app.testing = True
        return app
