"""Reading the record back out in bulk: every raw response with the versions
made from it, streamed in raw order for the WARC export, and the facts of
every version for the statistics.

The raw rows carry their HTTP exchange as JSON (headers_json writes it,
headers_from_json reads it); rows stored before the exchange was kept read
back as None and the export rebuilds what it can from the validators.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.errors import FeedsvcError
from feedsvc.models import Evidence
from feedsvc.stats import ArticleFacts, VersionFacts
from feedsvc.storage.engine import StoreBase
from feedsvc.storage.tables import articles, raws, versions


def headers_json(headers: Mapping[str, str] | None) -> str | None:
    if not headers:
        return None
    return json.dumps(dict(headers), ensure_ascii=False, sort_keys=True)


def headers_from_json(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    loaded = json.loads(value)
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else None


@dataclass(frozen=True)
class EvidenceVersion:
    """What a WARC metadata record says of one version."""

    article_id: str
    feed: str
    number: int
    seen_at: datetime
    change_class: str
    sha256: str
    suspect: bool


@dataclass(frozen=True)
class EvidenceItem:
    """One stored raw response and the versions that were made from it."""

    raw_id: int
    raw_sha256: str
    evidence: Evidence
    versions: tuple[EvidenceVersion, ...]


class EvidenceReads(StoreBase):
    """Bulk reads of the record: the WARC export's evidence, the statistics'
    version facts."""

    def iter_evidence(
        self,
        *,
        feed: str | None = None,
        since: datetime | None = None,
        batch: int = 200,
    ) -> Iterator[EvidenceItem]:
        """Every raw response behind a version (see iter_evidence)."""
        return iter_evidence(self.engine, feed=feed, since=since, batch=batch)

    def iter_article_facts(self, *, batch: int = 1000) -> Iterator[ArticleFacts]:
        """Every article with its versions' facts (see iter_article_facts)."""
        return iter_article_facts(self.engine, batch=batch)


def iter_evidence(
    engine: Engine,
    *,
    feed: str | None = None,
    since: datetime | None = None,
    batch: int = 200,
) -> Iterator[EvidenceItem]:
    """Every raw response behind a version (of `feed`, seen at or after
    `since`), oldest first, each with its versions. Streamed: one raw body
    is in memory at a time, whatever the size of the database."""
    q = (
        select(
            raws.c.id.label("raw_id"),
            raws.c.sha256.label("raw_sha256"),
            raws.c.url,
            raws.c.fetched_at,
            raws.c.status,
            raws.c.content_type,
            raws.c.etag,
            raws.c.last_modified,
            raws.c.extractor,
            raws.c.body,
            raws.c.request_headers,
            raws.c.response_headers,
            versions.c.article_id,
            versions.c.number,
            versions.c.seen_at,
            versions.c.change_class,
            versions.c.sha256,
            versions.c.suspect,
            articles.c.feed,
        )
        .join(versions, versions.c.raw_id == raws.c.id)
        .join(articles, articles.c.id == versions.c.article_id)
        .order_by(raws.c.id, versions.c.id)
    )
    if feed is not None:
        q = q.where(articles.c.feed == feed)
    if since is not None:
        q = q.where(versions.c.seen_at >= since)
    try:
        with engine.connect() as conn:
            rows = conn.execution_options(yield_per=batch).execute(q)
            for _, group in groupby(rows, key=attrgetter("raw_id")):
                first, *rest = group
                yield EvidenceItem(
                    first.raw_id,
                    first.raw_sha256,
                    evidence_from_row(first),
                    tuple(_evidence_version(row) for row in (first, *rest)),
                )
    except SQLAlchemyError as exc:  # the database went away mid-export
        raise FeedsvcError(f"export stopped: {str(exc).splitlines()[0]}") from None


def _evidence_version(row: Any) -> EvidenceVersion:
    return EvidenceVersion(
        article_id=row.article_id,
        feed=row.feed,
        number=row.number,
        seen_at=row.seen_at,
        change_class=row.change_class,
        sha256=row.sha256,
        suspect=bool(row.suspect),
    )


def evidence_from_row(r: Any) -> Evidence:
    """An Evidence from a row holding the columns of `raws`."""
    return Evidence(
        url=r.url,
        fetched_at=r.fetched_at,
        status=r.status,
        body=zlib.decompress(r.body),
        etag=r.etag,
        last_modified=r.last_modified,
        content_type=r.content_type,
        extractor=r.extractor,
        request_headers=headers_from_json(r.request_headers),
        response_headers=headers_from_json(r.response_headers),
    )


def iter_article_facts(engine: Engine, *, batch: int = 1000) -> Iterator[ArticleFacts]:
    """Every article with the facts of its versions (no text), in one
    streamed query, for feedsvc.stats."""
    q = (
        select(
            articles.c.id,
            articles.c.feed,
            articles.c.first_seen_at,
            articles.c.status,
            versions.c.number,
            versions.c.seen_at,
            versions.c.title,
            versions.c.change_class,
            versions.c.suspect,
        )
        .join(versions, versions.c.article_id == articles.c.id)
        .order_by(articles.c.id, versions.c.number)
    )
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=batch).execute(q)
        for _, group in groupby(rows, key=attrgetter("id")):
            first, *rest = group
            yield ArticleFacts(
                feed=first.feed,
                first_seen_at=first.first_seen_at,
                status=first.status,
                versions=tuple(
                    VersionFacts(
                        number=row.number,
                        seen_at=row.seen_at,
                        title=row.title,
                        change_class=row.change_class,
                        suspect=bool(row.suspect),
                    )
                    for row in (first, *rest)
                ),
            )
