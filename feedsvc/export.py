"""Bulk export for researchers: every version as one line of JSON.

`feedsvc export` and /api/export share this: lines are made one at a time
from Store.export_versions, which streams from the database, so exporting a
million versions takes no more memory than exporting ten.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from feedsvc.models import ExportedVersion
from feedsvc.storage import ReadStore


def parse_since(value: str) -> datetime:
    """An ISO 8601 date or date and time ("2026-03-01", "2026-03-01T09:30Z",
    "2026-03-01 09:30:00+02:00") as an aware UTC time. Without a zone it is
    UTC. Raises ValueError with a message fit to show as it is."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date or time like 2026-03-01 or 2026-03-01T09:30:00Z"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """A UTC time as ISO 8601 with a Z, the way the API and export write it."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def record(item: ExportedVersion) -> dict[str, Any]:
    v = item.version
    return {
        "article_id": v.article_id,
        "feed": item.feed,
        "url": item.url,
        "version": v.number,
        "seen_at": iso(v.seen_at),
        "title": v.title,
        "text": v.text,
        "sha256": v.sha256,
        "change_class": v.change_class,
        "words_added": v.words_added,
        "words_removed": v.words_removed,
        "suspect": v.suspect,
        "stealth": v.stealth,
    }


def export_lines(
    store: ReadStore, *, feed: str | None = None, since: datetime | None = None
) -> Iterator[str]:
    """One JSON document per version, each ending in a newline."""
    for item in store.export_versions(feed=feed, since=since):
        yield json.dumps(record(item), ensure_ascii=False) + "\n"
