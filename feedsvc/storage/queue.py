"""The work queue: sources due for a poll and article pages due for a check,
claimed under a lease (the healthchecks way of sharing work: whoever's
conditional UPDATE matched owns the row)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Row,
    Table,
    and_,
    exists,
    insert,
    or_,
    select,
    text,
    update,
)

from feedsvc.config import FeedSettings
from feedsvc.models import (
    ArticleForCheck,
    SourceForUpdate,
)
from feedsvc.storage.conflicts import (
    release_lease,
)
from feedsvc.storage.engine import StoreBase
from feedsvc.storage.rows import (
    load_for_update,
    source_for_update,
)
from feedsvc.storage.tables import articles, feed_state, sources


def claimable_sources(
    now: datetime | BindParameter[Any], *, feed: str | None = None, due_only: bool = True
) -> Any:
    """The condition on sources that may be claimed at `now` (a value, or a
    bound parameter in a statement built once): active, not gone, not
    leased, and (with due_only) due."""
    free = or_(sources.c.lease_until.is_(None), sources.c.lease_until < now)
    where = and_(sources.c.active.is_(True), sources.c.gone.is_(False), free)
    if due_only:
        where = and_(where, sources.c.next_poll_at <= now)
    if feed is not None:
        where = and_(where, sources.c.feed == feed)
    return where


# The article of a page source (a source URL that answers a page): the
# source's polls are its page's checks (the source's next poll is the page's
# next check, on its ladder), so it is never claimed, listed or waited for
# as a check of its own, which would fetch the same page twice at once.
PAGE_SOURCE = exists(
    select(sources.c.id)
    .where(sources.c.id == articles.c.source_id, sources.c.locator == articles.c.key)
    .correlate_except(sources)
)


class QueueStore(StoreBase):
    """Which sources and pages are due, and who holds them."""

    def sync_sources(self, feeds: Sequence[FeedSettings], now: datetime) -> None:
        """Make the sources table match the config: add new sources (due
        now), reactivate returning ones, deactivate removed ones. Poll state
        of existing sources is kept, so a restart resumes the schedule."""
        wanted = {(f.name, s) for f in feeds for s in f.sources}
        with self._write() as conn:
            if self.dialect == "postgresql":
                # Workers starting together would insert the same new
                # sources at once; one at a time, the second finds them.
                conn.execute(text("SELECT pg_advisory_xact_lock(784513)"))
            existing = {
                (r.feed, r.locator): r
                for r in conn.execute(
                    select(sources.c.id, sources.c.feed, sources.c.locator, sources.c.active)
                )
            }
            for feed, locator in sorted(wanted - existing.keys()):
                conn.execute(
                    insert(sources).values(
                        feed=feed,
                        locator=locator,
                        url=locator,
                        active=True,
                        gone=False,
                        next_poll_at=now,
                        failures=0,
                    )
                )
            for key, row in existing.items():
                if row.active != (key in wanted):
                    conn.execute(
                        update(sources).where(sources.c.id == row.id).values(active=key in wanted)
                    )
            for feed in {f.name for f in feeds}:
                self._ensure_feed_state(conn, feed, now)

    def _ensure_feed_state(self, conn: Connection, feed: str, now: datetime) -> None:
        if conn.execute(select(feed_state.c.feed).where(feed_state.c.feed == feed)).first():
            return
        conn.execute(insert(feed_state).values(feed=feed, serial=0, changed_at=now))

    def list_candidate_sources(
        self, now: datetime, *, limit: int = 50, feed: str | None = None, due_only: bool = True
    ) -> list[int]:
        """Ids of sources that could be claimed now, most overdue first."""
        where = claimable_sources(now, feed=feed, due_only=due_only)
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(sources.c.id).where(where).order_by(sources.c.next_poll_at).limit(limit)
                ).scalars()
            )

    def claim_next_source(
        self, now: datetime, owner: str, lease_until: datetime, *, feed: str | None = None
    ) -> SourceForUpdate | None:
        """Claim the most overdue source that nobody holds, or None when
        nothing is due. Each pool thread of each worker calls this just
        before a poll, so a worker takes only as much as it can poll now and
        the load spreads over the workers by itself."""
        where = claimable_sources(now, feed=feed)
        with self._write() as conn:
            row = self._claim_next(conn, sources, where, sources.c.next_poll_at, owner, lease_until)
        return source_for_update(row, owner) if row is not None else None

    def claim_source(
        self,
        source_id: int,
        now: datetime,
        owner: str,
        lease_until: datetime,
        *,
        due_only: bool = True,
    ) -> SourceForUpdate | None:
        """Claim one given source (a `feedsvc poll` of everything). None if
        someone else holds it."""
        where = and_(sources.c.id == source_id, claimable_sources(now, due_only=due_only))
        with self._write() as conn:
            row = self._claim_next(conn, sources, where, sources.c.next_poll_at, owner, lease_until)
        return source_for_update(row, owner) if row is not None else None

    def _claim_next(
        self,
        conn: Connection,
        table: Table,
        where: Any,
        order: Any,
        owner: str,
        lease_until: datetime,
    ) -> Row[Any] | None:
        """Lease the first row of `table` (sources, or articles for page
        re-checks: both have lease_owner and lease_until) matching `where`.

        On PostgreSQL the pick is SELECT ... FOR UPDATE SKIP LOCKED: workers
        claiming at the same moment each get a different row instead of
        queueing on the same one. On SQLite the transaction holds the write
        lock from BEGIN (see _write), so pick-then-update is atomic. Either
        way the UPDATE repeats the condition: whoever's UPDATE matched owns
        the row (the healthchecks way)."""
        pick = select(table.c.id).where(where).order_by(order).limit(1)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        row_id = conn.execute(pick).scalar()
        if row_id is None:
            return None
        got = conn.execute(
            update(table)
            .where(and_(table.c.id == row_id, where))
            .values(lease_owner=owner, lease_until=lease_until)
        ).rowcount
        if got != 1:
            return None  # another worker got there first
        return conn.execute(select(table).where(table.c.id == row_id)).one()

    def renew_leases(self, owner: str, ids: Iterable[int], lease_until: datetime) -> int:
        """Extend this owner's leases on sources it is still polling, so a
        slow poll is not taken over while it is alive. Returns how many were
        still held."""
        return self._renew_leases(sources, owner, ids, lease_until)

    def _renew_leases(
        self, table: Table, owner: str, ids: Iterable[Any], lease_until: datetime
    ) -> int:
        """Extend the leases `owner` still holds on these rows of `table`."""
        ids = list(ids)
        if not ids:
            return 0
        with self._write() as conn:
            return int(
                conn.execute(
                    update(table)
                    .where(and_(table.c.id.in_(ids), table.c.lease_owner == owner))
                    .values(lease_until=lease_until)
                ).rowcount
            )

    def list_lease_owners(self, now: datetime) -> set[str]:
        """Who holds an unexpired lease on a source now."""
        return self._lease_owners(sources, now)

    def release_leases(self, owners: Iterable[str]) -> int:
        """Drop every lease these owners hold (they are known to be dead)."""
        return self._release_leases(sources, owners)

    def _lease_owners(self, table: Table, now: datetime) -> set[str]:
        """Who holds an unexpired lease on a row of `table` (any table with
        lease_owner and lease_until) now."""
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    select(table.c.lease_owner)
                    .where(and_(table.c.lease_owner.is_not(None), table.c.lease_until >= now))
                    .distinct()
                ).scalars()
            )

    def _release_leases(self, table: Table, owners: Iterable[str]) -> int:
        """Drop every lease on `table` that these owners hold; how many."""
        owners = list(owners)
        if not owners:
            return 0
        with self._write() as conn:
            return int(
                conn.execute(
                    update(table)
                    .where(table.c.lease_owner.in_(owners))
                    .values(lease_owner=None, lease_until=None)
                ).rowcount
            )

    def release_source(self, source: SourceForUpdate) -> None:
        with self._write() as conn:
            release_lease(conn, sources, source.id, source.lease_owner)

    def _checkable(self, now: datetime, *, due_only: bool = True) -> Any:
        free = or_(articles.c.lease_until.is_(None), articles.c.lease_until < now)
        where = and_(
            articles.c.status.in_(("active", "dropped")),
            articles.c.url.is_not(None),
            free,
            ~PAGE_SOURCE,
        )
        if due_only:
            where = and_(
                where, articles.c.next_check_at.is_not(None), articles.c.next_check_at <= now
            )
        return where

    def list_candidate_articles(
        self,
        now: datetime,
        *,
        limit: int = 50,
        feed: str | None = None,
        in_sources: Sequence[int] = (),
    ) -> list[str]:
        """Ids of articles whose page is due for a check, most overdue first
        (only those of active sources: a removed feed's articles rest),
        and every article still listed by one of `in_sources` whether due
        or not (`feedsvc poll`: look at everything now); never a page
        source's (PAGE_SOURCE)."""
        where = self._checkable(now)
        if in_sources:
            listed = and_(
                self._checkable(now, due_only=False),
                articles.c.status == "active",
                articles.c.source_id.in_(list(in_sources)),
            )
            where = or_(where, listed)
        where = and_(where, sources.c.active.is_(True), sources.c.gone.is_(False))
        if feed is not None:
            where = and_(where, articles.c.feed == feed)
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(articles.c.id)
                    .join(sources, sources.c.id == articles.c.source_id)
                    .where(where)
                    .order_by(articles.c.next_check_at)
                    .limit(limit)
                ).scalars()
            )

    def claim_article(
        self, aid: str, now: datetime, owner: str, lease_until: datetime, *, due_only: bool = True
    ) -> ArticleForCheck | None:
        """Claim one due article (or, not `due_only`, any checkable one) for
        a page check, the way sources are claimed (_claim_next); None if
        another worker has it."""
        with self._write() as conn:
            claimed = self._claim_next(
                conn,
                articles,
                and_(articles.c.id == aid, self._checkable(now, due_only=due_only)),
                articles.c.next_check_at,
                owner,
                lease_until,
            )
            if claimed is None:
                return None
            row = conn.execute(
                select(articles.c.feed, articles.c.status, articles.c.source_id).where(
                    articles.c.id == aid
                )
            ).one()
            article = load_for_update(conn, [aid]).get(aid)
        if article is None:  # an article row without versions: nothing to compare
            self.release_article(aid, owner)
            return None
        return ArticleForCheck(
            feed=row.feed,
            source_id=row.source_id,
            status=row.status,
            article=article,
            lease_owner=owner,
        )

    def release_article(self, aid: str, owner: str) -> None:
        with self._write() as conn:
            release_lease(conn, articles, aid, owner)
