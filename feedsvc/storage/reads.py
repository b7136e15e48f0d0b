"""Read models of a feed for the web: pages of entries, revisions, article
summaries, counters, statistics and the export stream."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    case,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.exc import SQLAlchemyError

from feedsvc import history
from feedsvc.errors import FeedsvcError
from feedsvc.filters import RevisionFilter
from feedsvc.models import (
    ArticleRow,
    ArticleSummary,
    EntryView,
    ExportedVersion,
    FeedStats,
    RevisionView,
    VersionRow,
)
from feedsvc.storage.engine import CHUNK, StoreBase, chunks, one_line
from feedsvc.storage.revision_filter import revision_conditions
from feedsvc.storage.rows import (
    FULL_VERSION,
    VERSION_META,
    article_row,
    version_row,
)
from feedsvc.storage.tables import articles, feed_state, sources, versions


class FeedReads(StoreBase):
    """Reads of a whole feed."""

    def get_feed_stats(self) -> list[FeedStats]:
        """Per-feed counts for /metrics: cheap aggregate queries."""
        stats: dict[str, dict[str, Any]] = {}

        def row(feed: str) -> dict[str, Any]:
            return stats.setdefault(
                feed,
                {
                    "sources": 0,
                    "failing": 0,
                    "gone": 0,
                    "articles": 0,
                    "developing": 0,
                    "versions": 0,
                    "suspect": 0,
                    "last_change": None,
                },
            )

        with self.engine.connect() as conn:
            for r in conn.execute(
                select(
                    sources.c.feed,
                    func.count(),
                    func.sum(case((sources.c.failures > 0, 1), else_=0)),
                    func.sum(case((sources.c.gone.is_(True), 1), else_=0)),
                )
                .where(sources.c.active.is_(True))
                .group_by(sources.c.feed)
            ):
                row(r[0]).update(sources=r[1], failing=r[2] or 0, gone=r[3] or 0)
            for r in conn.execute(
                select(
                    articles.c.feed,
                    func.count(),
                    func.sum(case((articles.c.developing.is_(True), 1), else_=0)),
                )
                .where(articles.c.latest_version > 0)
                .group_by(articles.c.feed)
            ):
                row(r[0]).update(articles=r[1], developing=r[2] or 0)
            for r in conn.execute(
                select(
                    articles.c.feed,
                    func.count(),
                    func.sum(case((versions.c.suspect.is_(True), 1), else_=0)),
                )
                .select_from(versions.join(articles, articles.c.id == versions.c.article_id))
                .group_by(articles.c.feed)
            ):
                row(r[0]).update(versions=r[1], suspect=r[2] or 0)
            for r in conn.execute(select(feed_state.c.feed, feed_state.c.changed_at)):
                row(r[0])["last_change"] = r[1]
        return [FeedStats(feed=name, **values) for name, values in sorted(stats.items())]

    def get_feed_serial(self, feed: str) -> tuple[int, datetime | None]:
        """The feed's change counter and time: cheap, for cache validation."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(feed_state.c.serial, feed_state.c.changed_at).where(
                    feed_state.c.feed == feed
                )
            ).first()
        return (row.serial, row.changed_at) if row else (0, None)

    def list_feed_entries(self, feed: str, limit: int, offset: int = 0) -> list[EntryView]:
        """The feed's articles, newest update first, each with its history."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(articles)
                .where(and_(articles.c.feed == feed, articles.c.latest_version > 0))
                .order_by(articles.c.updated_at.desc(), articles.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
            return load_entry_views(conn, rows)

    def get_feed_page(
        self,
        feed: str,
        limit: int,
        *,
        before: tuple[datetime, str] | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> tuple[list[EntryView], bool]:
        """One page of the feed in its order (newest update first, then id),
        by keyset: the `limit` articles just older than `before`, or just
        newer than `after`. A page so defined keeps its boundaries when an
        article elsewhere gets a new version (it only leaves its old page).
        Returns the page and whether there are more beyond it (older ones
        for `before` and the first page, newer ones for `after`)."""
        live = and_(articles.c.feed == feed, articles.c.latest_version > 0)
        q = select(articles)
        if after is not None:
            at, aid = after
            q = q.where(and_(live, _newer_than(at, aid))).order_by(
                articles.c.updated_at, articles.c.id.desc()
            )
        else:
            q = q.where(live).order_by(articles.c.updated_at.desc(), articles.c.id)
            if before is not None:
                q = q.where(_older_than(*before))
        with self.engine.connect() as conn:
            rows = list(conn.execute(q.limit(limit + 1)).all())
            more = len(rows) > limit
            del rows[limit:]
            if after is not None:
                rows.reverse()
            return load_entry_views(conn, rows), more

    def count_articles(self, feed: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(articles)
                    .where(and_(articles.c.feed == feed, articles.c.latest_version > 0))
                ).scalar_one()
            )

    def list_feed_revisions(
        self, feed: str, limit: int, flt: RevisionFilter | None = None
    ) -> list[RevisionView]:
        """The feed's newest versions across all its articles, newest first,
        each with the version before it. Suspect versions are left out, and
        a version's predecessor is the latest non-suspect one before it."""

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*FULL_VERSION)
                .join(articles, articles.c.id == versions.c.article_id)
                .where(
                    articles.c.feed == feed,
                    versions.c.suspect.is_(False),
                    *revision_conditions(flt),
                )
                .order_by(versions.c.seen_at.desc(), versions.c.id.desc())
                .limit(limit)
            ).all()
            found = [version_row(r) for r in rows]
            ids = sorted({v.article_id for v in found})
            arts: dict[str, ArticleRow] = {}
            numbers: dict[str, list[int]] = {}
            for chunk in chunks(ids):
                for r in conn.execute(select(articles).where(articles.c.id.in_(chunk))):
                    arts[r.id] = article_row(r)
                for r in conn.execute(
                    select(versions.c.article_id, versions.c.number)
                    .where(and_(versions.c.article_id.in_(chunk), versions.c.suspect.is_(False)))
                    .order_by(versions.c.number)
                ):
                    numbers.setdefault(r.article_id, []).append(r.number)
            wanted = {}
            for v in found:
                before = history.predecessor(numbers.get(v.article_id, []), v.number)
                if before is not None:
                    wanted[v.article_id, v.number] = (v.article_id, before)
            previous: dict[tuple[str, int], VersionRow] = {}
            for chunk in chunks(sorted(set(wanted.values()))):
                for r in conn.execute(
                    select(*FULL_VERSION).where(
                        tuple_(versions.c.article_id, versions.c.number).in_(chunk)
                    )
                ):
                    previous[r.article_id, r.number] = version_row(r)
        return [
            RevisionView(
                arts[v.article_id],
                v,
                previous.get(wanted[v.article_id, v.number])
                if (v.article_id, v.number) in wanted
                else None,
            )
            for v in found
        ]

    def list_article_summaries(
        self,
        feed: str,
        limit: int,
        *,
        since: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[ArticleSummary]:
        """A page of the feed's articles, newest update first (ties by id),
        with their latest published titles. `after` is the (updated_at, id) of the last
        article of the previous page: keyset paging, so a page stays cheap
        however deep it is and no article is skipped or repeated when new
        versions arrive between two pages (an updated article moves to the
        front, where a reader who started earlier does not look again)."""
        # The latest published version's title: a suspect one's is no headline.
        shown = versions.alias("shown")
        published_number = (
            select(func.max(shown.c.number))
            .where(and_(shown.c.article_id == articles.c.id, shown.c.suspect.is_(False)))
            .correlate(articles)
            .scalar_subquery()
        )
        latest = and_(versions.c.article_id == articles.c.id, versions.c.number == published_number)
        q = (
            select(articles, versions.c.title.label("latest_title"))
            .select_from(articles)
            .join(versions, latest)
            .where(articles.c.feed == feed)
            .order_by(articles.c.updated_at.desc(), articles.c.id)
            .limit(limit)
        )
        if since is not None:
            q = q.where(articles.c.updated_at >= since)
        if after is not None:
            q = q.where(_older_than(*after))
        with self.engine.connect() as conn:
            return [ArticleSummary(article_row(r), r.latest_title) for r in conn.execute(q)]

    def export_versions(
        self, *, feed: str | None = None, since: datetime | None = None, batch: int = 500
    ) -> Iterator[ExportedVersion]:
        """Every version (suspect ones included, marked), oldest row first,
        streamed: rows arrive `batch` at a time (a server-side cursor on
        PostgreSQL), so memory stays flat however many versions there are.
        The connection is held until the iterator is exhausted or closed."""
        q = (
            select(*VERSION_META, versions.c.text, articles.c.feed, articles.c.url)
            .join(articles, articles.c.id == versions.c.article_id)
            .order_by(versions.c.id)
        )
        if feed is not None:
            q = q.where(articles.c.feed == feed)
        if since is not None:
            q = q.where(versions.c.seen_at >= since)
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(yield_per=batch).execute(q)
                for row in result:
                    yield ExportedVersion(row.feed, row.url, version_row(row))
        except SQLAlchemyError as exc:  # the database went away mid-export
            raise FeedsvcError(f"export stopped: {one_line(exc)}") from None


def load_entry_views(conn: Connection, rows: Sequence[Row[Any]]) -> list[EntryView]:
    ids = [r.id for r in rows]
    found: dict[str, list[VersionRow]] = {aid: [] for aid in ids}
    for chunk in chunks(ids):
        for v in conn.execute(
            select(*VERSION_META)
            .where(versions.c.article_id.in_(chunk))
            .order_by(versions.c.article_id, versions.c.number)
        ):
            found[v.article_id].append(version_row(v))
    published = {aid: history.published(vs) for aid, vs in found.items()}
    wanted = [(aid, vs[-1].number) for aid, vs in published.items() if vs]
    latest: dict[str, VersionRow] = {}
    for chunk in chunks(wanted, CHUNK // 2):  # two parameters a pair
        for v in conn.execute(
            select(*FULL_VERSION).where(tuple_(versions.c.article_id, versions.c.number).in_(chunk))
        ):
            latest[v.article_id] = version_row(v)
    return [
        EntryView(article_row(r), latest[r.id], tuple(published[r.id]))
        for r in rows
        if r.id in latest
    ]


def _older_than(updated_at: datetime, aid: str) -> Any:
    return or_(
        articles.c.updated_at < updated_at,
        and_(articles.c.updated_at == updated_at, articles.c.id > aid),
    )


def _newer_than(updated_at: datetime, aid: str) -> Any:
    return or_(
        articles.c.updated_at > updated_at,
        and_(articles.c.updated_at == updated_at, articles.c.id < aid),
    )
