"""Pruning old raw evidence: `[storage] keep_raw`.

Every version keeps the raw response it was made from (raws), which is what
lets a version be cited and re-extracted; over years that is most of the
database. With keep_raw set, raws fetched longer ago than that are deleted,
never a version and never its text: the versions that pointed at them keep
everything but the link (raw_id becomes NULL). The raw of each article's
latest version is always kept, so `feedsvc reextract` still works. Each raw
is stored once per distinct body and URL (writes._add_raw), so an unchanged
feed document is never stored twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Engine

from feedsvc.storage.tables import articles, raws, versions


def prune_raws(engine: Engine, keep: float, now: datetime) -> int:
    """Delete the raws fetched before now - keep seconds that no article's
    latest version points at. Returns how many were deleted."""
    cutoff = now - timedelta(seconds=keep)
    latest = (
        select(versions.c.raw_id)
        .join(
            articles,
            and_(
                versions.c.article_id == articles.c.id,
                versions.c.number == articles.c.latest_version,
            ),
        )
        .where(versions.c.raw_id.is_not(None))
    )
    old = select(raws.c.id).where(and_(raws.c.fetched_at < cutoff, raws.c.id.not_in(latest)))
    with engine.begin() as conn:
        ids = [row.id for row in conn.execute(old)]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(update(versions).where(versions.c.raw_id.in_(chunk)).values(raw_id=None))
            conn.execute(delete(raws).where(raws.c.id.in_(chunk)))
    return len(ids)
