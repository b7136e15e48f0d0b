"""Reads of one article (its versions, events, raw responses) and of the
sources and failing pages /healthz reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    or_,
    select,
)

from feedsvc.errors import NotFound
from feedsvc.models import (
    ArticleRow,
    EntryView,
    Evidence,
    SourceRow,
    VersionRow,
)
from feedsvc.storage.engine import StoreBase
from feedsvc.storage.evidence import evidence_from_row
from feedsvc.storage.reads import load_entry_views
from feedsvc.storage.rows import (
    FULL_VERSION,
    VERSION_META,
    article_row,
    source_row,
    version_row,
)
from feedsvc.storage.tables import articles, events, raws, sources, versions


class ArticleReads(StoreBase):
    """Reads of one article, the sources and failing pages."""

    def get_article(self, aid: str) -> ArticleRow:
        with self.engine.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == aid)).first()
        if row is None:
            raise NotFound(f"no article {aid!r}")
        return article_row(row)

    def find_article(self, ref: str) -> ArticleRow:
        """An article by its id or its URL."""
        with self.engine.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == ref)).first()
            if row is None:
                row = conn.execute(
                    select(articles)
                    .where(or_(articles.c.url == ref, articles.c.key == ref))
                    .order_by(articles.c.first_seen_at)
                    .limit(1)
                ).first()
        if row is None:
            raise NotFound(f"no article with id or URL {ref!r}")
        return article_row(row)

    def get_entry_view(self, aid: str) -> EntryView:
        with self.engine.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == aid)).first()
            views = load_entry_views(conn, [row]) if row else []
        if not views:
            raise NotFound(f"no article {aid!r}")
        return views[0]

    def get_versions(self, aid: str, *, full: bool = False) -> list[VersionRow]:
        columns = FULL_VERSION if full else VERSION_META
        with self.engine.connect() as conn:
            return [
                version_row(v)
                for v in conn.execute(
                    select(*columns).where(versions.c.article_id == aid).order_by(versions.c.number)
                )
            ]

    def get_version(self, aid: str, number: int, *, conn: Connection | None = None) -> VersionRow:
        q = select(*FULL_VERSION).where(
            and_(versions.c.article_id == aid, versions.c.number == number)
        )
        if conn is None:
            with self.engine.connect() as c:
                row = c.execute(q).first()
        else:
            row = conn.execute(q).first()
        if row is None:
            raise NotFound(f"article {aid!r} has no version {number}")
        return version_row(row)

    def list_events(self, aid: str) -> list[tuple[datetime, str, str | None]]:
        with self.engine.connect() as conn:
            return [
                (r.at, r.kind, r.detail)
                for r in conn.execute(
                    select(events).where(events.c.article_id == aid).order_by(events.c.at)
                )
            ]

    def get_raw(self, raw_id: int) -> Evidence:
        with self.engine.connect() as conn:
            r = conn.execute(select(raws).where(raws.c.id == raw_id)).first()
        if r is None:
            raise NotFound(f"no raw response {raw_id}")
        return evidence_from_row(r)

    def list_sources(self, feed: str | None = None) -> list[SourceRow]:
        q = select(sources).order_by(sources.c.feed, sources.c.id)
        if feed is not None:
            q = q.where(sources.c.feed == feed)
        with self.engine.connect() as conn:
            return [source_row(r) for r in conn.execute(q)]

    def list_failing_articles(self, limit: int = 50) -> list[dict[str, Any]]:
        """Article pages whose checks keep failing (not 404/410: those end
        as events), most failures first, for /healthz."""
        q = (
            select(
                articles.c.feed,
                articles.c.id,
                articles.c.url,
                articles.c.check_failures,
                articles.c.last_error,
                articles.c.next_check_at,
            )
            .where(articles.c.check_failures > 0)
            .order_by(articles.c.check_failures.desc(), articles.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]
