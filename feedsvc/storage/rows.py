"""Row mappers: from database rows to the dataclasses of feedsvc.models,
the column lists they need, and the stable article id."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    func,
    select,
)

from feedsvc.models import (
    ArticleForUpdate,
    ArticleRow,
    LatestVersion,
    SourceForUpdate,
    SourceRow,
    VersionRow,
)
from feedsvc.storage.tables import articles, versions


def article_id(feed: str, key: str) -> str:
    """Stable id of an article: the same for the same upstream identity in
    the same feed, whatever base_url or the database's row ids are."""
    return hashlib.sha256(f"{feed}\n{key}".encode()).hexdigest()[:16]


VERSION_META = [
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
    versions.c.stealth,
]


# A version with its text and html, not only its metadata.
FULL_VERSION = [*VERSION_META, versions.c.text, versions.c.html]


def version_row(v: Any) -> VersionRow:
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
        stealth=bool(m["stealth"]),
        text=m.get("text") or "",
        html=m.get("html") or "",
    )


def article_row(r: Row[Any]) -> ArticleRow:
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


def source_for_update(row: Row[Any], owner: str, page: bool | None = None) -> SourceForUpdate:
    return SourceForUpdate(
        id=row.id,
        feed=row.feed,
        locator=row.locator,
        url=row.url,
        etag=row.etag,
        last_modified=row.last_modified,
        failures=row.failures,
        lease_owner=owner,
        due_at=row.next_poll_at,
        last_polled_at=row.last_polled_at,
        page=page,
    )


def load_for_update(conn: Connection, ids: Sequence[str]) -> dict[str, ArticleForUpdate]:
    rows = conn.execute(
        select(
            versions.c.article_id,
            versions.c.number,
            versions.c.title,
            versions.c.text,
            versions.c.sha256,
            versions.c.seen_at,
            versions.c.page_date,
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
            articles.c.entry_sha256,
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
            latest=LatestVersion(
                v.number, v.title, v.text, v.sha256, v.seen_at, page_date=v.page_date
            ),
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
            entry_sha256=v.entry_sha256,
        )
        for v in rows
    }


def source_row(r: Row[Any]) -> SourceRow:
    return SourceRow(
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
