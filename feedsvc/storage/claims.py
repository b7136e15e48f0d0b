"""Claiming work in batches: the due sources (or article pages) a worker
has room for, leased in one statement, and when the next one falls due.
The lease semantics are those of queue.py: whoever's conditional UPDATE
matched a row owns it until its lease runs out or it is finished."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    func,
    select,
    true,
    update,
)

from feedsvc.models import ArticleForCheck, SourceForUpdate
from feedsvc.storage.queue import PAGE_SOURCE, QueueStore, claimable_sources
from feedsvc.storage.rows import load_for_update, source_for_update
from feedsvc.storage.tables import articles, sources


class ClaimStore(QueueStore):
    """Batch claims for the scheduler (feedsvc.scheduler)."""

    def claim_due_sources(
        self,
        now: datetime,
        owner: str,
        lease_until: datetime,
        *,
        limit: int,
        skip_hosts: Iterable[str] = (),
    ) -> list[SourceForUpdate]:
        """Claim up to `limit` due sources, most overdue first, in one
        statement: an UPDATE of the rows a sub-select picks (with FOR UPDATE
        SKIP LOCKED on PostgreSQL, so workers claiming at once each get other
        rows; under SQLite's write lock otherwise). The UPDATE repeats the
        condition, so whoever's UPDATE matched a row owns it. Sources on
        `skip_hosts` (hosts this worker already polls as much as it may)
        are left for later or for another worker."""
        if limit <= 0:
            return []
        hosts = _host_patterns(skip_hosts)
        params: dict[str, Any] = {f"h{i}": p for i, p in enumerate(hosts)}
        params |= {"now": now, "owner": owner, "until": lease_until, "limit": limit}
        with self._write() as conn:
            rows = list(conn.execute(_source_claim(self.dialect, len(hosts)), params))
        rows.sort(key=lambda r: r.next_poll_at)
        return [source_for_update(r, owner, page=bool(r.page)) for r in rows]

    def claim_due_articles(
        self,
        now: datetime,
        owner: str,
        lease_until: datetime,
        *,
        limit: int,
        skip_hosts: Iterable[str] = (),
    ) -> list[ArticleForCheck]:
        """Claim up to `limit` article pages due for a check, the way
        claim_due_sources claims sources (only those of active sources: a
        removed feed's articles rest)."""
        live = select(sources.c.id).where(
            and_(sources.c.active.is_(True), sources.c.gone.is_(False))
        )
        where = and_(
            self._checkable(now),
            articles.c.source_id.in_(live),
            _not_on_hosts(articles.c.url, skip_hosts),
        )
        rows = self._claim_many(
            articles, where, articles.c.next_check_at, owner, lease_until, limit
        )
        if not rows:
            return []
        ids = [r.id for r in sorted(rows, key=lambda r: r.next_check_at)]
        with self.engine.connect() as conn:
            loaded = load_for_update(conn, ids)
        claims = []
        by_id = {r.id: r for r in rows}
        for aid in ids:
            article = loaded.get(aid)
            if article is None:  # an article row without versions: nothing to compare
                self.release_article(aid, owner)
                continue
            row = by_id[aid]
            claims.append(
                ArticleForCheck(
                    feed=row.feed,
                    source_id=row.source_id,
                    status=row.status,
                    article=article,
                    lease_owner=owner,
                )
            )
        return claims

    def _claim_many(
        self,
        table: Table,
        where: Any,
        order: Any,
        owner: str,
        lease_until: datetime,
        limit: int,
    ) -> list[Row[Any]]:
        if limit <= 0:
            return []
        pick = select(table.c.id).where(where).order_by(order).limit(limit)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        claim = (
            update(table)
            .where(and_(table.c.id.in_(pick.scalar_subquery()), where))
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*table.c)
        )
        with self._write() as conn:
            return list(conn.execute(claim))

    def next_due_at(self) -> datetime | None:
        """The earliest time a source or an article page not leased now
        falls due (in the past if some are overdue), or None when nothing
        is scheduled. Leases that run out are not counted: the scheduler
        looks again at least every `tick` anyway."""
        with self.engine.connect() as conn:
            source = conn.execute(
                select(func.min(sources.c.next_poll_at)).where(
                    and_(
                        sources.c.active.is_(True),
                        sources.c.gone.is_(False),
                        sources.c.lease_owner.is_(None),
                    )
                )
            ).scalar()
            page = conn.execute(
                select(func.min(articles.c.next_check_at)).where(
                    and_(
                        articles.c.next_check_at.is_not(None),
                        articles.c.status.in_(("active", "dropped")),
                        articles.c.lease_owner.is_(None),
                        ~PAGE_SOURCE,
                    )
                )
            ).scalar()
        times = [t for t in (source, page) if t is not None]
        return min(times) if times else None

    def renew_article_leases(self, owner: str, ids: Iterable[str], lease_until: datetime) -> int:
        """renew_leases, for article pages being checked."""
        return self._renew_leases(articles, owner, ids, lease_until)


@functools.cache
def _source_claim(dialect: str, patterns: int) -> Update:
    """claim_due_sources's statement for this many host patterns, built
    once with bound parameters: a worker claims many times a second, and
    building and cache-keying the statement cost more than running it."""
    now = bindparam("now", type_=sources.c.next_poll_at.type)
    where = and_(
        claimable_sources(now),
        *(
            ~sources.c.url.like(bindparam(f"h{i}", type_=Text), escape="\\")
            for i in range(patterns)
        ),
    )
    pick = (
        select(sources.c.id)
        .where(where)
        .order_by(sources.c.next_poll_at)
        .limit(bindparam("limit", type_=Integer))
    )
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    # Whether each is an article page comes back with the claim (one
    # lookup in the unique index on (feed, key)), so an unchanged answer
    # from a feed needs no read of its own.
    page = (
        select(articles.c.id)
        .where(and_(articles.c.feed == sources.c.feed, articles.c.key == sources.c.locator))
        .exists()
        .label("page")
    )
    return (
        update(sources)
        .where(and_(sources.c.id.in_(pick.scalar_subquery()), where))
        .values(
            lease_owner=bindparam("owner", type_=sources.c.lease_owner.type),
            lease_until=bindparam("until", type_=sources.c.lease_until.type),
        )
        .returning(*sources.c, page)
    )


def _not_on_hosts(url: Any, hosts: Iterable[str]) -> Any:
    """A condition: `url` is on none of `hosts` (names as fetch.host_of
    gives them; the port is not part of a host)."""
    return and_(true(), *(~url.like(p, escape="\\") for p in _host_patterns(hosts)))


def _host_patterns(hosts: Iterable[str]) -> list[str]:
    """LIKE patterns of the URLs on `hosts`."""
    return [
        f"{scheme}://{_like_escape(h)}{end}"
        for h in sorted(hosts)
        for scheme in ("http", "https")
        for end in ("/%", ":%")
    ]


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
