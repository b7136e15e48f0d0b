"""What each caller may use of the Store, as typed Protocols: the updater
writes polls and checks, the web only reads (its type has no method that
writes), the WebSub publisher keeps its ping state. `Store` satisfies all
three; a test or a caller that wants less can hand in anything that fits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from feedsvc.filters import RevisionFilter
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
    RevisionView,
    SourceForUpdate,
    SourceRow,
    VersionIntent,
    VersionRow,
)
from feedsvc.stats import ArticleFacts
from feedsvc.storage.evidence import EvidenceItem
from feedsvc.storage.outbox import TargetCounts
from feedsvc.storage.search import SearchHit
from feedsvc.storage.serials import SerialReader


class UpdaterStore(Protocol):
    """The updater's part: claim work, read what it decides against, write
    the outcome."""

    def list_candidate_sources(
        self, now: datetime, *, limit: int = 50, feed: str | None = None, due_only: bool = True
    ) -> list[int]: ...

    def claim_next_source(
        self, now: datetime, owner: str, lease_until: datetime, *, feed: str | None = None
    ) -> SourceForUpdate | None: ...

    def claim_source(
        self,
        source_id: int,
        now: datetime,
        owner: str,
        lease_until: datetime,
        *,
        due_only: bool = True,
    ) -> SourceForUpdate | None: ...

    def renew_leases(self, owner: str, ids: Iterable[int], lease_until: datetime) -> int: ...

    def list_lease_owners(self, now: datetime) -> set[str]: ...

    def release_leases(self, owners: Iterable[str]) -> int: ...

    def release_source(self, source: SourceForUpdate) -> None: ...

    def list_candidate_articles(
        self,
        now: datetime,
        *,
        limit: int = 50,
        feed: str | None = None,
        in_sources: Sequence[int] = (),
    ) -> list[str]: ...

    def claim_article(
        self, aid: str, now: datetime, owner: str, lease_until: datetime, *, due_only: bool = True
    ) -> ArticleForCheck | None: ...

    def release_article(self, aid: str, owner: str) -> None: ...

    def get_articles_for_update(
        self, feed: str, keys: Iterable[str]
    ) -> dict[str, ArticleForUpdate]: ...

    def find_latest_hashes(self, feed: str, hashes: Iterable[str]) -> set[str]: ...

    def get_last_developing_change(self, source_id: int, since: datetime) -> datetime | None: ...

    def find_article_at(self, feed: str, url: str, *, other_than: str) -> str | None: ...

    def list_latest_raws(self, feed: str | None = None) -> list[tuple[str, str, str, int]]: ...

    def get_raw(self, raw_id: int) -> Evidence: ...

    def fail_poll(
        self,
        source: SourceForUpdate,
        now: datetime,
        error: str,
        next_poll_at: datetime,
        *,
        gone: bool = False,
        page: tuple[str, CheckIntent] | None = None,
    ) -> None: ...

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
    ) -> tuple[int, int]: ...

    def finish_check(
        self,
        claim: ArticleForCheck,
        now: datetime,
        version: VersionIntent | None,
        check: CheckIntent,
    ) -> int: ...

    def add_version(self, feed: str, key: str, version: VersionIntent, now: datetime) -> int: ...


class WorkQueue(Protocol):
    """The scheduler's part: claim due work in batches, keep the leases of
    what it holds, give back what it will not poll."""

    def claim_due_sources(
        self,
        now: datetime,
        owner: str,
        lease_until: datetime,
        *,
        limit: int,
        skip_hosts: Iterable[str] = (),
    ) -> list[SourceForUpdate]: ...

    def claim_due_articles(
        self,
        now: datetime,
        owner: str,
        lease_until: datetime,
        *,
        limit: int,
        skip_hosts: Iterable[str] = (),
    ) -> list[ArticleForCheck]: ...

    def next_due_at(self) -> datetime | None: ...

    def renew_leases(self, owner: str, ids: Iterable[int], lease_until: datetime) -> int: ...

    def renew_article_leases(
        self, owner: str, ids: Iterable[str], lease_until: datetime
    ) -> int: ...

    def list_lease_owners(self, now: datetime) -> set[str]: ...

    def release_leases(self, owners: Iterable[str]) -> int: ...

    def release_source(self, source: SourceForUpdate) -> None: ...

    def release_article(self, aid: str, owner: str) -> None: ...


class ReadStore(Protocol):
    """The web's part (also the CLI's reads and the export): reads only."""

    @property
    def serials(self) -> SerialReader: ...

    def ping(self) -> None: ...

    def list_sources(self, feed: str | None = None) -> list[SourceRow]: ...

    def get_feed_stats(self) -> list[FeedStats]: ...

    def get_feed_serial(self, feed: str) -> tuple[int, datetime | None]: ...

    def list_feed_entries(self, feed: str, limit: int, offset: int = 0) -> list[EntryView]: ...

    def get_feed_page(
        self,
        feed: str,
        limit: int,
        *,
        before: tuple[datetime, str] | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> tuple[list[EntryView], bool]: ...

    def count_articles(self, feed: str) -> int: ...

    def list_feed_revisions(
        self, feed: str, limit: int, flt: RevisionFilter | None = None
    ) -> list[RevisionView]: ...

    def search(
        self,
        q: str,
        *,
        feed: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 20,
    ) -> list[SearchHit]: ...

    def list_article_summaries(
        self,
        feed: str,
        limit: int,
        *,
        since: datetime | None = None,
        after: tuple[datetime, str] | None = None,
    ) -> list[ArticleSummary]: ...

    def export_versions(
        self, *, feed: str | None = None, since: datetime | None = None, batch: int = 500
    ) -> Iterator[ExportedVersion]: ...

    def iter_evidence(
        self, *, feed: str | None = None, since: datetime | None = None, batch: int = 200
    ) -> Iterator[EvidenceItem]: ...

    def iter_article_facts(self, *, batch: int = 1000) -> Iterator[ArticleFacts]: ...

    def get_article(self, aid: str) -> ArticleRow: ...

    def find_article(self, ref: str) -> ArticleRow: ...

    def get_entry_view(self, aid: str) -> EntryView: ...

    def get_versions(self, aid: str, *, full: bool = False) -> list[VersionRow]: ...

    def get_version(
        self, aid: str, number: int, *, conn: Connection | None = None
    ) -> VersionRow: ...

    def list_events(self, aid: str) -> list[tuple[datetime, str, str | None]]: ...

    def get_raw(self, raw_id: int) -> Evidence: ...

    def list_failing_articles(self, limit: int = 50) -> list[dict[str, Any]]: ...

    def get_ping_state(self, feed: str) -> tuple[int, int, datetime | None, str | None]: ...

    def count_messages(self) -> list[TargetCounts]: ...

    def list_failing_channels(self, limit: int = 50) -> list[dict[str, Any]]: ...


class HubState(Protocol):
    """The WebSub publisher's part: which feeds to announce, and how it went."""

    def list_feeds_to_ping(self, now: datetime) -> list[tuple[str, int, int]]: ...

    def mark_pinged(self, feed: str, serial: int) -> None: ...

    def record_ping_failure(
        self, feed: str, failures: int, retry_at: datetime, error: str
    ) -> None: ...

    def get_ping_state(self, feed: str) -> tuple[int, int, datetime | None, str | None]: ...
