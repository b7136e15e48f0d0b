"""`feedsvc sources`: every source with its state, the terminal face of
/healthz (last poll, last change, next poll, failures, last error)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select

from feedsvc.config import Settings
from feedsvc.storage import Store
from feedsvc.storage.tables import articles

COLUMNS = ("feed", "source", "state", "last poll", "last change", "next poll", "failures")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def last_changes(store: Store) -> dict[int, datetime]:
    """Per source id, when its newest article version was seen."""
    q = select(articles.c.source_id, func.max(articles.c.updated_at)).group_by(articles.c.source_id)
    with store.engine.connect() as conn:
        return {int(sid): when for sid, when in conn.execute(q) if when is not None}


def source_table(store: Store, settings: Settings, feed: str | None = None) -> Iterator[str]:
    """The table's lines: a header, a row per configured source, and each
    failing source's last error under it."""
    configured = {(f.name, s) for f in settings.feeds for s in f.sources}
    changes = last_changes(store)
    rows: list[tuple[str, ...]] = []
    errors: dict[int, str] = {}
    for r in store.list_sources(feed):
        if (r.feed, r.locator) not in configured:
            continue  # removed from config.toml: history kept, not followed
        state = "gone" if r.gone else ("failing" if r.failures else "ok")
        rows.append(
            (
                r.feed,
                r.locator,
                state,
                _when(r.last_polled_at),
                _when(changes.get(r.id)),
                "-" if r.gone else _when(r.next_poll_at),
                str(r.failures),
            )
        )
        if r.last_error and (r.failures or r.gone):
            errors[len(rows) - 1] = r.last_error
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    yield "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()
    for index, row in enumerate(rows):
        yield "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        if index in errors:
            yield f"    last error: {errors[index]}"
