"""The outbox's rows are written here: OutboxWriter, a Store version hook,
runs inside the transaction that writes the version, so a version is never
stored without its messages, nor a message without its version. Claiming,
recording and reporting them is storage/outbox.py."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, insert, select

from feedsvc.config import NotifySettings
from feedsvc.models import VersionIntent
from feedsvc.notify.rules import VersionFacts, wants
from feedsvc.storage.outbox import PENDING
from feedsvc.storage.tables import articles, outbox, versions


def message_id(target: str, channel: int, article: str, version: int) -> str:
    """The webhook-id: the same for the same message however often it is
    sent, so receivers can drop duplicates (no '.', as the spec asks)."""
    digest = hashlib.sha256(f"{target}\n{channel}\n{article}\n{version}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def channels(target: NotifySettings) -> range:
    """A webhook is one channel; each Apprise URL is its own, so a dead one
    neither delays nor repeats the others."""
    return range(len(target.urls) or 1)


class OutboxWriter:
    """The Store version hook: one pending row per channel of each target
    that wants the version. Kept to a couple of indexed reads: it runs
    inside the poll's transaction."""

    def __init__(self, targets: Sequence[NotifySettings]) -> None:
        self.targets = tuple(targets)
        self._feeds: dict[str, str] = {}  # article id -> feed (it never changes)

    def __call__(
        self, conn: Connection, aid: str, number: int, v: VersionIntent, now: datetime
    ) -> None:
        # Cheap checks first: most versions of most setups stop here,
        # before any read.
        cls = "initial" if number == 1 else v.change_class
        targets = [t for t in self.targets if cls in t.classes]
        if v.suspect or not targets:
            return
        feed = self._feed(conn, aid)
        targets = [t for t in targets if t.covers(feed)]
        if not targets:
            return
        headline_changed = False
        changed = v.words_added + v.words_removed
        if number > 1 and any(t.headline_only or changed < t.min_words_changed for t in targets):
            old = conn.execute(
                select(versions.c.title).where(
                    and_(versions.c.article_id == aid, versions.c.number == number - 1)
                )
            ).scalar()
            headline_changed = old is not None and old != v.title
        facts = VersionFacts(
            feed, number, v.change_class, v.words_added, v.words_removed, headline_changed
        )
        rows = [
            {
                "message_id": message_id(t.name, ch, aid, number),
                "target": t.name,
                "channel": ch,
                "feed": feed,
                "article_id": aid,
                "version": number,
                "created_at": now,
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for t in targets
            if wants(t, facts)
            for ch in channels(t)
        ]
        if rows:
            conn.execute(insert(outbox), rows)

    def _feed(self, conn: Connection, aid: str) -> str:
        feed = self._feeds.get(aid)
        if feed is None:
            feed = conn.execute(select(articles.c.feed).where(articles.c.id == aid)).scalar_one()
            if len(self._feeds) > 100_000:
                self._feeds.clear()
            self._feeds[aid] = feed
        return feed
