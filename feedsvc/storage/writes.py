"""Poll and check writes: where articles, versions, raw responses and
events are written, each poll or check in one transaction guarded by its
lease."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)

from feedsvc.models import (
    ArticleForCheck,
    ArticleIntent,
    CheckIntent,
    Evidence,
    SourceForUpdate,
    VersionIntent,
)
from feedsvc.storage.conflicts import (
    WriteConflict,
    end_lease,
    write_conflicts,
)
from feedsvc.storage.engine import StoreBase, chunks
from feedsvc.storage.evidence import headers_json
from feedsvc.storage.rows import (
    article_id,
)
from feedsvc.storage.search import index_version
from feedsvc.storage.tables import articles, events, feed_state, raws, sources, versions


class WriteStore(StoreBase):
    """The updater's writes."""

    def fail_poll(
        self,
        source: SourceForUpdate,
        now: datetime,
        error: str,
        next_poll_at: datetime,
        *,
        gone: bool = False,
        page: tuple[str, CheckIntent] | None = None,
    ) -> None:
        """Write one failed poll: the source's error and next poll, and for
        a page source (`page`: its article's id and the check that failed)
        the page's polling state and event, in one transaction."""
        with self._write() as conn:
            end_lease(
                conn,
                sources,
                source.id,
                source.lease_owner,
                f"source {source.locator}",
                last_polled_at=now,
                failures=source.failures + 1,
                last_error=error[:2000],
                last_error_at=now,
                next_poll_at=next_poll_at,
                gone=gone,
            )
            if page is not None and self._set_check(conn, *page, now):
                self._bump(conn, source.feed, now)

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
        for a check now (then on with their ladder); one that comes back is
        active again. Returns (new articles, new versions).
        Raises LeaseLost, writing nothing, when another worker owns the
        source now."""
        new_articles = new_versions = 0
        changed_events = False
        # Another writer may insert the same article or the same version
        # number first (uq_versions_article_number, articles' key).
        conflict = (
            f"source {source.locator}: another writer stored the same article first; "
            "nothing of this poll was written"
        )
        with write_conflicts(conflict), self._write() as conn:
            end_lease(
                conn,
                sources,
                source.id,
                source.lease_owner,
                f"source {source.locator}",
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
            for chunk in chunks(list(by_id)):
                for r in conn.execute(
                    select(articles.c.id, articles.c.latest_version).where(articles.c.id.in_(chunk))
                ):
                    existing[r.id] = r
            seen_rows = [
                {"aid": aid, "url": i.url, "entry": i.entry_sha256}
                for aid, i in by_id.items()
                if aid in existing
            ]
            if seen_rows:
                conn.execute(
                    update(articles)
                    .where(articles.c.id == bindparam("aid"))
                    .values(
                        last_seen_at=now,
                        url=func.coalesce(bindparam("url"), articles.c.url),
                        entry_sha256=func.coalesce(bindparam("entry"), articles.c.entry_sha256),
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
                            entry_sha256=intent.entry_sha256,
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
            # Leaving the feed is news about the article (unpublished?
            # moved?): its page is checked at once, then on its ladder.
            .values(status="dropped", next_check_at=now)
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
        result = conn.execute(
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
                stealth=v.stealth,
                page_date=v.page_date,
            )
        )
        assert result.inserted_primary_key is not None
        index_version(conn, result.inserted_primary_key[0], v.title, v.text, dialect=self.dialect)
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
        for hook in self.version_hooks:
            hook(conn, aid, number, v, now)

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
                request_headers=headers_json(evidence.request_headers),
                response_headers=headers_json(evidence.response_headers),
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
        conflict = f"article {aid}: another writer added a version first; nothing was written"
        with write_conflicts(conflict), self._write() as conn:
            end_lease(conn, articles, aid, claim.lease_owner, f"article {aid}")
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
