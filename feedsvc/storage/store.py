"""Store: every read and write of feedsvc's database, on SQLite or PostgreSQL.

Writes that belong to one poll happen in one transaction, guarded by the
poller's lease on the source: whoever still holds the lease may commit,
anyone else rolls back (the healthchecks way of sharing work).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    and_,
    case,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from feedsvc.config import FeedSettings
from feedsvc.errors import FeedsvcError, NotFound
from feedsvc.models import (
    ArticleForCheck,
    ArticleForUpdate,
    ArticleIntent,
    ArticleRow,
    ArticleSummary,
    CheckIntent,
    EntryView,
    Evidence,
    ExportedVersion,
    FeedStats,
    LatestVersion,
    RevisionView,
    SourceForUpdate,
    SourceRow,
    VersionIntent,
    VersionRow,
)
from feedsvc.storage.serials import SerialReader
from feedsvc.storage.tables import articles, events, feed_state, raws, sources, versions

MIGRATIONS = Path(__file__).parent / "migrations"
_CHUNK = 500  # ids per IN (...) query


class LeaseLost(FeedsvcError):
    """Another worker took the source over (our lease expired): the poll's
    writes were rolled back."""


class WriteConflict(FeedsvcError):
    """Another writer stored the same article (a new article, or the next
    version number) while this poll was deciding. The whole poll was rolled
    back; polled again, it decides against what is stored now."""


def article_id(feed: str, key: str) -> str:
    """Stable id of an article: the same for the same upstream identity in
    the same feed, whatever base_url or the database's row ids are."""
    return hashlib.sha256(f"{feed}\n{key}".encode()).hexdigest()[:16]


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def create_db_engine(url: str, *, idle_timeout: float | None = None) -> Engine:
    """An engine for `url`. On PostgreSQL, `idle_timeout` (seconds) ends a
    session that sits in an open transaction that long: a worker frozen or
    cut off mid-write would otherwise hold its row locks (and with them the
    sources SKIP LOCKED passes over) until TCP notices, hours later."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=False
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if idle_timeout:
        milliseconds = max(1000, int(idle_timeout * 1000))

        @event.listens_for(engine, "connect")
        def _pg_session(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET idle_in_transaction_session_timeout = {milliseconds}")
            dbapi_conn.commit()

    return engine


class Store:
    def __init__(
        self, url: str, *, migrate: bool = True, idle_timeout: float | None = None
    ) -> None:
        self.url = url
        self.engine = create_db_engine(url, idle_timeout=idle_timeout)
        self._serials: SerialReader | None = None
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        if self._serials is not None:
            self._serials.close()
        self.engine.dispose()

    @property
    def serials(self) -> SerialReader:
        """The per-request change lookup of web nodes (see serials.py)."""
        if self._serials is None:
            self._serials = SerialReader(self.url)
        return self._serials

    def migrate(self) -> None:
        """Bring the schema to the newest migration; safe to run from many
        processes at once (serialised by a database lock)."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(784512)"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise FeedsvcError(f"database {self.engine.url!r}: {_one_line(exc)}") from None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction. On SQLite it takes the write lock at BEGIN,
        so two writers queue instead of failing to upgrade a read lock."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    # -- sources -----------------------------------------------------------

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

    def _claimable(self, now: datetime, *, feed: str | None = None, due_only: bool = True) -> Any:
        free = or_(sources.c.lease_until.is_(None), sources.c.lease_until < now)
        where = and_(sources.c.active.is_(True), sources.c.gone.is_(False), free)
        if due_only:
            where = and_(where, sources.c.next_poll_at <= now)
        if feed is not None:
            where = and_(where, sources.c.feed == feed)
        return where

    def candidate_sources(
        self, now: datetime, *, limit: int = 50, feed: str | None = None, due_only: bool = True
    ) -> list[int]:
        """Ids of sources that could be claimed now, most overdue first."""
        where = self._claimable(now, feed=feed, due_only=due_only)
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
        where = self._claimable(now, feed=feed)
        with self._write() as conn:
            row = self._claim_next(conn, sources, where, sources.c.next_poll_at, owner, lease_until)
        return _source_for_update(row, owner) if row is not None else None

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
        where = and_(sources.c.id == source_id, self._claimable(now, due_only=due_only))
        with self._write() as conn:
            row = self._claim_next(conn, sources, where, sources.c.next_poll_at, owner, lease_until)
        return _source_for_update(row, owner) if row is not None else None

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
        ids = list(ids)
        if not ids:
            return 0
        with self._write() as conn:
            return int(
                conn.execute(
                    update(sources)
                    .where(and_(sources.c.id.in_(ids), sources.c.lease_owner == owner))
                    .values(lease_until=lease_until)
                ).rowcount
            )

    def lease_owners(self, now: datetime) -> set[str]:
        """Who holds an unexpired lease on a source now."""
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    select(sources.c.lease_owner)
                    .where(and_(sources.c.lease_owner.is_not(None), sources.c.lease_until >= now))
                    .distinct()
                ).scalars()
            )

    def release_leases(self, owners: Iterable[str]) -> int:
        """Drop every lease these owners hold (they are known to be dead)."""
        owners = list(owners)
        if not owners:
            return 0
        with self._write() as conn:
            return int(
                conn.execute(
                    update(sources)
                    .where(sources.c.lease_owner.in_(owners))
                    .values(lease_owner=None, lease_until=None)
                ).rowcount
            )

    def release_source(self, source: SourceForUpdate) -> None:
        with self._write() as conn:
            conn.execute(
                update(sources)
                .where(and_(sources.c.id == source.id, sources.c.lease_owner == source.lease_owner))
                .values(lease_owner=None, lease_until=None)
            )

    def _finish_source(self, conn: Connection, source: SourceForUpdate, **values: Any) -> None:
        got = conn.execute(
            update(sources)
            .where(and_(sources.c.id == source.id, sources.c.lease_owner == source.lease_owner))
            .values(lease_owner=None, lease_until=None, **values)
        ).rowcount
        if got != 1:
            raise LeaseLost(f"source {source.locator}: lease lost to another worker")

    def fail_poll(
        self,
        source: SourceForUpdate,
        now: datetime,
        error: str,
        next_poll_at: datetime,
        *,
        gone: bool = False,
    ) -> None:
        with self._write() as conn:
            self._finish_source(
                conn,
                source,
                last_polled_at=now,
                failures=source.failures + 1,
                last_error=error[:2000],
                last_error_at=now,
                next_poll_at=next_poll_at,
                gone=gone,
            )

    def articles_for_update(self, feed: str, keys: Iterable[str]) -> dict[str, ArticleForUpdate]:
        """The latest stored version of each of these articles (by key), with
        its page-polling state."""
        ids = {article_id(feed, k): k for k in keys}
        found: dict[str, ArticleForUpdate] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids)):
                for aid, article in self._for_update(conn, chunk).items():
                    found[ids[aid]] = article
        return found

    def _for_update(self, conn: Connection, ids: Sequence[str]) -> dict[str, ArticleForUpdate]:
        rows = conn.execute(
            select(
                versions.c.article_id,
                versions.c.number,
                versions.c.title,
                versions.c.text,
                versions.c.sha256,
                versions.c.seen_at,
                articles.c.key,
                articles.c.url,
                articles.c.developing,
                articles.c.updated_at,
                articles.c.next_check_at,
                articles.c.unchanged_checks,
                articles.c.check_etag,
                articles.c.check_last_modified,
                articles.c.check_failures,
                articles.c.status,
            )
            .join(
                articles,
                and_(
                    articles.c.id == versions.c.article_id,
                    articles.c.latest_version == versions.c.number,
                ),
            )
            .where(versions.c.article_id.in_(ids))
        ).all()
        hashes: dict[str, dict[str, int]] = {}
        for r in conn.execute(
            select(versions.c.article_id, versions.c.sha256, func.min(versions.c.number))
            .where(versions.c.article_id.in_(ids))
            .group_by(versions.c.article_id, versions.c.sha256)
        ):
            hashes.setdefault(r[0], {})[r[1]] = r[2]
        return {
            v.article_id: ArticleForUpdate(
                id=v.article_id,
                key=v.key,
                latest=LatestVersion(v.number, v.title, v.text, v.sha256, v.seen_at),
                known_hashes=hashes.get(v.article_id, {}),
                url=v.url,
                developing=v.developing,
                updated_at=v.updated_at,
                next_check_at=v.next_check_at,
                unchanged_checks=v.unchanged_checks,
                check_etag=v.check_etag,
                check_last_modified=v.check_last_modified,
                check_failures=v.check_failures,
                status=v.status,
            )
            for v in rows
        }

    def latest_hashes(self, feed: str, hashes: Iterable[str]) -> set[str]:
        """Which of these content hashes are some article's latest version
        in this feed: a "new" entry with one of them is a stored article
        under a new id."""
        wanted = sorted(set(hashes))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
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

    def finish_poll(
        self,
        source: SourceForUpdate,
        now: datetime,
        intents: Sequence[ArticleIntent],
        next_poll_at: datetime,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        url: str | None = None,
        error: str | None = None,
        track_dropped: bool = False,
    ) -> tuple[int, int]:
        """Write one successful poll in one transaction: the articles seen,
        their new versions and page-polling state, the source's new poll
        state. With `track_dropped` (a feed whose articles are pages), the
        source's articles missing from this poll are marked dropped and due
        for a re-check now, which puts them on the re-check ladder; one that
        comes back is active again. Returns (new articles, new versions).
        Raises LeaseLost, writing nothing, when another worker owns the
        source now."""
        try:
            return self._finish_poll(
                source, now, intents, next_poll_at, etag, last_modified, url, error, track_dropped
            )
        except IntegrityError as exc:
            # Another writer inserted the same article or the same version
            # number first (uq_versions_article_number, articles' key).
            raise WriteConflict(
                f"source {source.locator}: another writer stored the same article first; "
                f"nothing of this poll was written ({_one_line(exc.orig or exc)})"
            ) from None

    def _finish_poll(
        self,
        source: SourceForUpdate,
        now: datetime,
        intents: Sequence[ArticleIntent],
        next_poll_at: datetime,
        etag: str | None,
        last_modified: str | None,
        url: str | None,
        error: str | None,
        track_dropped: bool,
    ) -> tuple[int, int]:
        new_articles = new_versions = 0
        changed_events = False
        with self._write() as conn:
            self._finish_source(
                conn,
                source,
                last_polled_at=now,
                last_success_at=now,
                failures=0,
                last_error=error,
                last_error_at=now if error else None,
                next_poll_at=next_poll_at,
                etag=etag,
                last_modified=last_modified,
                url=url or source.url,
            )
            raw_ids: dict[int, int] = {}
            by_id = {article_id(source.feed, i.key): i for i in intents}
            existing: dict[str, Any] = {}
            for chunk in _chunks(list(by_id)):
                for r in conn.execute(
                    select(articles.c.id, articles.c.latest_version).where(articles.c.id.in_(chunk))
                ):
                    existing[r.id] = r
            seen_rows = [{"aid": aid, "url": i.url} for aid, i in by_id.items() if aid in existing]
            if seen_rows:
                conn.execute(
                    update(articles)
                    .where(articles.c.id == _bind("aid"))
                    .values(
                        last_seen_at=now,
                        url=func.coalesce(_bind("url"), articles.c.url),
                        status=case(
                            # (no IN here: executemany cannot expand it)
                            (
                                or_(articles.c.status == "dropped", articles.c.status == "stopped"),
                                "active",
                            ),
                            else_=articles.c.status,
                        ),
                    ),
                    seen_rows,
                )
            for aid, intent in by_id.items():
                if aid not in existing:
                    if intent.version is None:
                        continue
                    conn.execute(
                        insert(articles).values(
                            id=aid,
                            feed=source.feed,
                            source_id=source.id,
                            key=intent.key,
                            url=intent.url,
                            first_seen_at=now,
                            published_at=intent.published,
                            updated_at=now,
                            last_seen_at=now,
                            latest_version=0,
                            developing=False,
                            status="active",
                            unchanged_checks=0,
                            check_failures=0,
                        )
                    )
                    new_articles += 1
                    latest_number = 0
                else:
                    latest_number = existing[aid].latest_version
                if intent.version is not None:
                    if intent.based_on is not None and intent.based_on != latest_number:
                        raise WriteConflict(
                            f"article {aid}: decided against version {intent.based_on}, "
                            f"but version {latest_number} is stored now"
                        )
                    self._add_version(conn, aid, latest_number + 1, intent, now, raw_ids)
                    new_versions += 1
                if intent.check is not None and self._set_check(conn, aid, intent.check, now):
                    changed_events = True
            if track_dropped:
                self._mark_dropped(conn, source.id, now)
            if new_articles or new_versions or changed_events:
                self._bump(conn, source.feed, now)
        return new_articles, new_versions

    def _mark_dropped(self, conn: Connection, source_id: int, now: datetime) -> None:
        conn.execute(
            update(articles)
            .where(
                and_(
                    articles.c.source_id == source_id,
                    articles.c.status == "active",
                    articles.c.last_seen_at < now,
                )
            )
            .values(
                status="dropped",
                next_check_at=func.coalesce(articles.c.next_check_at, now),
            )
        )

    def _set_check(self, conn: Connection, aid: str, check: CheckIntent, now: datetime) -> bool:
        """Write an article's page-polling state; True if an event was added."""
        values: dict[str, Any] = {
            "next_check_at": check.next_check_at,
            "unchanged_checks": check.unchanged_checks,
            "check_etag": check.etag,
            "check_last_modified": check.last_modified,
            "check_failures": check.failures,
            "last_error": check.error[:2000] if check.error else None,
        }
        if check.status is not None:
            values["status"] = check.status
        conn.execute(update(articles).where(articles.c.id == aid).values(**values))
        if check.event is None:
            return False
        kind, detail = check.event
        conn.execute(insert(events).values(article_id=aid, at=now, kind=kind, detail=detail))
        return True

    def _add_version(
        self,
        conn: Connection,
        aid: str,
        number: int,
        intent: ArticleIntent,
        now: datetime,
        raw_ids: dict[int, int],
    ) -> None:
        v = intent.version
        assert v is not None
        raw_id = None
        if v.evidence is not None:
            raw_id = raw_ids.get(id(v.evidence))
            if raw_id is None:
                raw_id = self._add_raw(conn, v.evidence)
                raw_ids[id(v.evidence)] = raw_id
        conn.execute(
            insert(versions).values(
                article_id=aid,
                number=number,
                seen_at=now,
                title=v.title,
                text=v.text,
                html=v.html,
                sha256=v.sha256,
                words=v.words,
                words_added=v.words_added,
                words_removed=v.words_removed,
                change_class=v.change_class,
                revert_of=v.revert_of,
                developing=v.developing,
                suspect=v.suspect,
                author=v.author,
                raw_id=raw_id,
            )
        )
        # A suspect version (the extraction guard's doubt) is numbered and
        # kept, but it does not move the article in its feed or change its
        # developing state: readers see it only once a normal one follows.
        values: dict[str, Any] = {"latest_version": number}
        if not v.suspect:
            values |= {"updated_at": now, "developing": v.developing, "unchanged_checks": 0}
        # The WHERE makes a lost race fail loudly instead of skipping a number.
        got = conn.execute(
            update(articles)
            .where(and_(articles.c.id == aid, articles.c.latest_version == number - 1))
            .values(**values)
        ).rowcount
        if got != 1:
            raise WriteConflict(f"article {aid}: version {number} was written by someone else")

    def _add_raw(self, conn: Connection, evidence: Evidence) -> int:
        sha = hashlib.sha256(evidence.body).hexdigest()
        existing = conn.execute(
            select(raws.c.id).where(and_(raws.c.sha256 == sha, raws.c.url == evidence.url)).limit(1)
        ).scalar()
        if existing is not None:
            return int(existing)
        result = conn.execute(
            insert(raws).values(
                sha256=sha,
                url=evidence.url,
                fetched_at=evidence.fetched_at,
                status=evidence.status,
                content_type=evidence.content_type,
                etag=evidence.etag,
                last_modified=evidence.last_modified,
                extractor=evidence.extractor,
                body=zlib.compress(evidence.body, 6),
            )
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    def _bump(self, conn: Connection, feed: str, now: datetime) -> None:
        got = conn.execute(
            update(feed_state)
            .where(feed_state.c.feed == feed)
            .values(serial=feed_state.c.serial + 1, changed_at=now)
        ).rowcount
        if not got:
            conn.execute(insert(feed_state).values(feed=feed, serial=1, changed_at=now))

    # -- article pages: developing stories and re-checks --------------------

    def _checkable(self, now: datetime) -> Any:
        free = or_(articles.c.lease_until.is_(None), articles.c.lease_until < now)
        return and_(
            articles.c.next_check_at.is_not(None),
            articles.c.next_check_at <= now,
            articles.c.status.in_(("active", "dropped")),
            articles.c.url.is_not(None),
            free,
        )

    def candidate_articles(
        self, now: datetime, *, limit: int = 50, feed: str | None = None
    ) -> list[str]:
        """Ids of articles whose page is due for a check, most overdue first
        (only those of active sources: a removed feed's articles rest)."""
        where = and_(self._checkable(now), sources.c.active.is_(True), sources.c.gone.is_(False))
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
        self, aid: str, now: datetime, owner: str, lease_until: datetime
    ) -> ArticleForCheck | None:
        """Claim one due article for a page check, the way sources are
        claimed (_claim_next); None if another worker has it."""
        with self._write() as conn:
            claimed = self._claim_next(
                conn,
                articles,
                and_(articles.c.id == aid, self._checkable(now)),
                articles.c.next_check_at,
                owner,
                lease_until,
            )
            if claimed is None:
                return None
            row = conn.execute(
                select(articles.c.feed, articles.c.status, sources.c.id, sources.c.locator)
                .join(sources, sources.c.id == articles.c.source_id)
                .where(articles.c.id == aid)
            ).one()
            article = self._for_update(conn, [aid]).get(aid)
        if article is None:  # an article row without versions: nothing to compare
            self.release_article(aid, owner)
            return None
        return ArticleForCheck(
            feed=row.feed,
            source_id=row.id,
            source_locator=row.locator,
            status=row.status,
            article=article,
            lease_owner=owner,
        )

    def release_article(self, aid: str, owner: str) -> None:
        with self._write() as conn:
            conn.execute(
                update(articles)
                .where(and_(articles.c.id == aid, articles.c.lease_owner == owner))
                .values(lease_owner=None, lease_until=None)
            )

    def finish_check(
        self,
        claim: ArticleForCheck,
        now: datetime,
        version: VersionIntent | None,
        check: CheckIntent,
    ) -> int:
        """Write one article check in one transaction: its new version (if
        any), its polling state and event. Returns the versions added (0 or
        1). Raises LeaseLost, writing nothing, if the lease was lost, and
        WriteConflict if another writer added a version meanwhile."""
        aid = claim.article.id
        try:
            return self._finish_check(claim, now, version, check)
        except IntegrityError as exc:
            raise WriteConflict(f"article {aid}: {_one_line(exc.orig or exc)}") from None

    def _finish_check(
        self,
        claim: ArticleForCheck,
        now: datetime,
        version: VersionIntent | None,
        check: CheckIntent,
    ) -> int:
        aid = claim.article.id
        with self._write() as conn:
            got = conn.execute(
                update(articles)
                .where(and_(articles.c.id == aid, articles.c.lease_owner == claim.lease_owner))
                .values(lease_owner=None, lease_until=None)
            ).rowcount
            if got != 1:
                raise LeaseLost(f"article {aid}: lease lost to another worker")
            added = 0
            if version is not None:
                number = claim.article.latest.number + 1 if claim.article.latest else 1
                intent = ArticleIntent(claim.article.key, claim.article.url, None, version)
                self._add_version(conn, aid, number, intent, now, {})
                added = 1
            event = self._set_check(conn, aid, check, now)
            if added or event:
                self._bump(conn, claim.feed, now)
        return added

    def last_developing_change(self, source_id: int, since: datetime) -> datetime | None:
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

    def failing_articles(self, limit: int = 50) -> list[dict[str, Any]]:
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

    def article_at(self, feed: str, url: str, *, other_than: str) -> str | None:
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

    # -- re-extraction ------------------------------------------------------

    def latest_raws(self, feed: str | None = None) -> list[tuple[str, str, str, int]]:
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

    def add_version(self, feed: str, key: str, version: VersionIntent, now: datetime) -> int:
        """Append a version to an existing article outside any poll (for
        `feedsvc reextract`). Returns its number."""
        aid = article_id(feed, key)
        with self._write() as conn:
            latest = conn.execute(
                select(articles.c.latest_version).where(articles.c.id == aid)
            ).scalar_one()
            intent = ArticleIntent(key, None, None, version)
            self._add_version(conn, aid, latest + 1, intent, now, {})
            self._bump(conn, feed, now)
        return int(latest) + 1

    def add_event(self, article: str, at: datetime, kind: str, detail: str | None = None) -> None:
        with self._write() as conn:
            conn.execute(insert(events).values(article_id=article, at=at, kind=kind, detail=detail))
            feed = conn.execute(select(articles.c.feed).where(articles.c.id == article)).scalar()
            if feed:
                self._bump(conn, feed, at)

    # -- WebSub ------------------------------------------------------------

    def feeds_to_ping(self, now: datetime) -> list[tuple[str, int, int]]:
        """(feed, serial, failures) of every feed changed since the hub was
        last told, and not waiting out a backoff."""
        with self.engine.connect() as conn:
            return [
                (r.feed, r.serial, r.ping_failures)
                for r in conn.execute(
                    select(feed_state.c.feed, feed_state.c.serial, feed_state.c.ping_failures)
                    .where(
                        and_(
                            feed_state.c.serial > feed_state.c.pinged_serial,
                            or_(feed_state.c.ping_after.is_(None), feed_state.c.ping_after <= now),
                        )
                    )
                    .order_by(feed_state.c.feed)
                )
            ]

    def pinged(self, feed: str, serial: int) -> None:
        """The hub was told about `serial`. Never moves backwards: a ping of
        an older serial that finishes late changes nothing."""
        with self._write() as conn:
            conn.execute(
                update(feed_state)
                .where(and_(feed_state.c.feed == feed, feed_state.c.pinged_serial < serial))
                .values(pinged_serial=serial, ping_failures=0, ping_after=None, ping_error=None)
            )

    def ping_failed(self, feed: str, failures: int, retry_at: datetime, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                update(feed_state)
                .where(feed_state.c.feed == feed)
                .values(ping_failures=failures, ping_after=retry_at, ping_error=error[:2000])
            )

    def ping_state(self, feed: str) -> tuple[int, int, datetime | None, str | None]:
        """(pinged serial, failures, next attempt, last error), for /healthz
        and tests."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(
                    feed_state.c.pinged_serial,
                    feed_state.c.ping_failures,
                    feed_state.c.ping_after,
                    feed_state.c.ping_error,
                ).where(feed_state.c.feed == feed)
            ).first()
        return (r[0], r[1], r[2], r[3]) if r else (0, 0, None, None)

    # -- reading -----------------------------------------------------------

    def sources(self, feed: str | None = None) -> list[SourceRow]:
        q = select(sources).order_by(sources.c.feed, sources.c.id)
        if feed is not None:
            q = q.where(sources.c.feed == feed)
        with self.engine.connect() as conn:
            return [
                SourceRow(
                    id=r.id,
                    feed=r.feed,
                    locator=r.locator,
                    url=r.url,
                    active=r.active,
                    gone=r.gone,
                    next_poll_at=r.next_poll_at,
                    last_polled_at=r.last_polled_at,
                    last_success_at=r.last_success_at,
                    failures=r.failures,
                    last_error=r.last_error,
                    etag=r.etag,
                    last_modified=r.last_modified,
                    last_error_at=r.last_error_at,
                )
                for r in conn.execute(q)
            ]

    def feed_stats(self) -> list[FeedStats]:
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

    def feed_serial(self, feed: str) -> tuple[int, datetime | None]:
        """The feed's change counter and time: cheap, for cache validation."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(feed_state.c.serial, feed_state.c.changed_at).where(
                    feed_state.c.feed == feed
                )
            ).first()
        return (row.serial, row.changed_at) if row else (0, None)

    def feed_entries(self, feed: str, limit: int, offset: int = 0) -> list[EntryView]:
        """The feed's articles, newest update first, each with its history."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(articles)
                .where(and_(articles.c.feed == feed, articles.c.latest_version > 0))
                .order_by(articles.c.updated_at.desc(), articles.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
            return self._entry_views(conn, rows)

    def feed_page(
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
            return self._entry_views(conn, rows), more

    def count_articles(self, feed: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(articles)
                    .where(and_(articles.c.feed == feed, articles.c.latest_version > 0))
                ).scalar_one()
            )

    def _entry_views(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[EntryView]:
        ids = [r.id for r in rows]
        history: dict[str, list[VersionRow]] = {aid: [] for aid in ids}
        for chunk in _chunks(ids):
            for v in conn.execute(
                select(*_META_COLUMNS)
                .where(versions.c.article_id.in_(chunk))
                .order_by(versions.c.article_id, versions.c.number)
            ):
                history[v.article_id].append(_version_row(v))
        published = {aid: [v for v in vs if not v.suspect] for aid, vs in history.items()}
        wanted = [(aid, vs[-1].number) for aid, vs in published.items() if vs]
        latest: dict[str, VersionRow] = {}
        for chunk in _chunks(wanted, _CHUNK // 2):  # two parameters a pair
            for v in conn.execute(
                select(*_META_COLUMNS, versions.c.text, versions.c.html).where(
                    tuple_(versions.c.article_id, versions.c.number).in_(chunk)
                )
            ):
                latest[v.article_id] = _version_row(v)
        return [
            EntryView(_article_row(r), latest[r.id], tuple(published[r.id]))
            for r in rows
            if r.id in latest
        ]

    def feed_revisions(self, feed: str, limit: int) -> list[RevisionView]:
        """The feed's newest versions across all its articles, newest first,
        each with the version before it. Suspect versions are left out, and
        a version's predecessor is the latest non-suspect one before it."""
        full = [*_META_COLUMNS, versions.c.text, versions.c.html]
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*full)
                .join(articles, articles.c.id == versions.c.article_id)
                .where(and_(articles.c.feed == feed, versions.c.suspect.is_(False)))
                .order_by(versions.c.seen_at.desc(), versions.c.id.desc())
                .limit(limit)
            ).all()
            found = [_version_row(r) for r in rows]
            ids = sorted({v.article_id for v in found})
            arts: dict[str, ArticleRow] = {}
            numbers: dict[str, list[int]] = {}
            for chunk in _chunks(ids):
                for r in conn.execute(select(articles).where(articles.c.id.in_(chunk))):
                    arts[r.id] = _article_row(r)
                for r in conn.execute(
                    select(versions.c.article_id, versions.c.number)
                    .where(and_(versions.c.article_id.in_(chunk), versions.c.suspect.is_(False)))
                    .order_by(versions.c.number)
                ):
                    numbers.setdefault(r.article_id, []).append(r.number)
            wanted = {}
            for v in found:
                before = [n for n in numbers.get(v.article_id, []) if n < v.number]
                if before:
                    wanted[v.article_id, v.number] = (v.article_id, before[-1])
            previous: dict[tuple[str, int], VersionRow] = {}
            for chunk in _chunks(sorted(set(wanted.values()))):
                for r in conn.execute(
                    select(*full).where(tuple_(versions.c.article_id, versions.c.number).in_(chunk))
                ):
                    previous[r.article_id, r.number] = _version_row(r)
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

    def article_page(
        self,
        feed: str,
        limit: int,
        *,
        since: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[ArticleSummary]:
        """A page of the feed's articles, newest update first (ties by id),
        with their latest titles. `after` is the (updated_at, id) of the last
        article of the previous page: keyset paging, so a page stays cheap
        however deep it is and no article is skipped or repeated when new
        versions arrive between two pages (an updated article moves to the
        front, where a reader who started earlier does not look again)."""
        latest = and_(
            versions.c.article_id == articles.c.id, versions.c.number == articles.c.latest_version
        )
        q = (
            select(articles, versions.c.title.label("latest_title"))
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
            return [ArticleSummary(_article_row(r), r.latest_title) for r in conn.execute(q)]

    def export_versions(
        self, *, feed: str | None = None, since: datetime | None = None, batch: int = 500
    ) -> Iterator[ExportedVersion]:
        """Every version (suspect ones included, marked), oldest row first,
        streamed: rows arrive `batch` at a time (a server-side cursor on
        PostgreSQL), so memory stays flat however many versions there are.
        The connection is held until the iterator is exhausted or closed."""
        q = (
            select(*_META_COLUMNS, versions.c.text, articles.c.feed, articles.c.url)
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
                    yield ExportedVersion(row.feed, row.url, _version_row(row))
        except SQLAlchemyError as exc:  # the database went away mid-export
            raise FeedsvcError(f"export stopped: {_one_line(exc)}") from None

    def article(self, aid: str) -> ArticleRow:
        with self.engine.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == aid)).first()
        if row is None:
            raise NotFound(f"no article {aid!r}")
        return _article_row(row)

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
        return _article_row(row)

    def entry_view(self, aid: str) -> EntryView:
        with self.engine.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == aid)).first()
            views = self._entry_views(conn, [row]) if row else []
        if not views:
            raise NotFound(f"no article {aid!r}")
        return views[0]

    def versions(self, aid: str, *, full: bool = False) -> list[VersionRow]:
        columns = [*_META_COLUMNS, versions.c.text, versions.c.html] if full else _META_COLUMNS
        with self.engine.connect() as conn:
            return [
                _version_row(v)
                for v in conn.execute(
                    select(*columns).where(versions.c.article_id == aid).order_by(versions.c.number)
                )
            ]

    def version(self, aid: str, number: int, *, conn: Connection | None = None) -> VersionRow:
        q = select(*_META_COLUMNS, versions.c.text, versions.c.html).where(
            and_(versions.c.article_id == aid, versions.c.number == number)
        )
        if conn is None:
            with self.engine.connect() as c:
                row = c.execute(q).first()
        else:
            row = conn.execute(q).first()
        if row is None:
            raise NotFound(f"article {aid!r} has no version {number}")
        return _version_row(row)

    def events(self, aid: str) -> list[tuple[datetime, str, str | None]]:
        with self.engine.connect() as conn:
            return [
                (r.at, r.kind, r.detail)
                for r in conn.execute(
                    select(events).where(events.c.article_id == aid).order_by(events.c.at)
                )
            ]

    def raw(self, raw_id: int) -> Evidence:
        with self.engine.connect() as conn:
            r = conn.execute(select(raws).where(raws.c.id == raw_id)).first()
        if r is None:
            raise NotFound(f"no raw response {raw_id}")
        return Evidence(
            url=r.url,
            fetched_at=r.fetched_at,
            status=r.status,
            body=zlib.decompress(r.body),
            etag=r.etag,
            last_modified=r.last_modified,
            content_type=r.content_type,
            extractor=r.extractor,
        )


_META_COLUMNS = [
    versions.c.article_id,
    versions.c.number,
    versions.c.seen_at,
    versions.c.title,
    versions.c.sha256,
    versions.c.words,
    versions.c.words_added,
    versions.c.words_removed,
    versions.c.change_class,
    versions.c.revert_of,
    versions.c.developing,
    versions.c.suspect,
    versions.c.author,
    versions.c.raw_id,
]


def _source_for_update(row: Row[Any], owner: str) -> SourceForUpdate:
    return SourceForUpdate(
        id=row.id,
        feed=row.feed,
        locator=row.locator,
        url=row.url,
        etag=row.etag,
        last_modified=row.last_modified,
        failures=row.failures,
        lease_owner=owner,
    )


# Keyset paging over articles in feed order (updated_at descending, then id
# ascending): the articles after, or before, the one at (updated_at, id).
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


def _version_row(v: Any) -> VersionRow:
    m = v._mapping
    return VersionRow(
        article_id=m["article_id"],
        number=m["number"],
        seen_at=m["seen_at"],
        title=m["title"],
        sha256=m["sha256"],
        words=m["words"],
        words_added=m["words_added"],
        words_removed=m["words_removed"],
        change_class=m["change_class"],
        revert_of=m["revert_of"],
        developing=m["developing"],
        suspect=m["suspect"],
        author=m["author"],
        raw_id=m["raw_id"],
        text=m.get("text") or "",
        html=m.get("html") or "",
    )


def _article_row(r: Row[Any]) -> ArticleRow:
    return ArticleRow(
        id=r.id,
        feed=r.feed,
        key=r.key,
        url=r.url,
        first_seen_at=r.first_seen_at,
        published_at=r.published_at,
        updated_at=r.updated_at,
        latest_version=r.latest_version,
        developing=r.developing,
        status=r.status,
        next_check_at=r.next_check_at,
    )


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _one_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
