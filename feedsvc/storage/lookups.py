"""What the updater reads before it decides: the stored state of the
articles a poll sees, and the odd facts its rules ask about."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    and_,
    func,
    select,
)

from feedsvc.models import (
    ArticleForUpdate,
)
from feedsvc.storage.engine import StoreBase, chunks
from feedsvc.storage.rows import (
    article_id,
    load_for_update,
)
from feedsvc.storage.tables import articles, versions


class LookupStore(StoreBase):
    """The updater's reads."""

    def get_articles_for_update(
        self, feed: str, keys: Iterable[str]
    ) -> dict[str, ArticleForUpdate]:
        """The latest stored version of each of these articles (by key), with
        its page-polling state."""
        ids = {article_id(feed, k): k for k in keys}
        found: dict[str, ArticleForUpdate] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(ids)):
                for aid, article in load_for_update(conn, chunk).items():
                    found[ids[aid]] = article
        return found

    def find_latest_hashes(self, feed: str, hashes: Iterable[str]) -> set[str]:
        """Which of these content hashes are some article's latest version
        in this feed: a "new" entry with one of them is a stored article
        under a new id."""
        wanted = sorted(set(hashes))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
                found.update(
                    conn.execute(
                        select(versions.c.sha256)
                        .join(
                            articles,
                            and_(
                                articles.c.id == versions.c.article_id,
                                articles.c.latest_version == versions.c.number,
                            ),
                        )
                        .where(and_(articles.c.feed == feed, versions.c.sha256.in_(chunk)))
                    ).scalars()
                )
        return found

    def get_last_developing_change(self, source_id: int, since: datetime) -> datetime | None:
        """When the most recently changed developing article of a source
        changed, if that was after `since`. Articles whose page is followed
        on its own schedule (next_check_at) are left out: their checks,
        not the source's polls, follow them."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.max(articles.c.updated_at)).where(
                    and_(
                        articles.c.source_id == source_id,
                        articles.c.developing.is_(True),
                        articles.c.updated_at > since,
                        articles.c.next_check_at.is_(None),
                        articles.c.status == "active",
                    )
                )
            ).scalar()

    def find_article_at(self, feed: str, url: str, *, other_than: str) -> str | None:
        """The id of another article of `feed` that lives at `url`, if any:
        a page that redirects there has become that article."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(articles.c.id)
                .where(
                    and_(
                        articles.c.feed == feed, articles.c.url == url, articles.c.id != other_than
                    )
                )
                .limit(1)
            ).scalar()

    def list_latest_raws(self, feed: str | None = None) -> list[tuple[str, str, str, int]]:
        """(feed, article id, key, raw id) of each article whose latest
        version kept its raw response, for re-extraction."""
        q = (
            select(articles.c.feed, articles.c.id, articles.c.key, versions.c.raw_id)
            .join(
                versions,
                and_(
                    versions.c.article_id == articles.c.id,
                    versions.c.number == articles.c.latest_version,
                ),
            )
            .where(versions.c.raw_id.is_not(None))
            .order_by(articles.c.feed, articles.c.first_seen_at, articles.c.id)
        )
        if feed is not None:
            q = q.where(articles.c.feed == feed)
        with self.engine.connect() as conn:
            return [(r.feed, r.id, r.key, r.raw_id) for r in conn.execute(q)]
