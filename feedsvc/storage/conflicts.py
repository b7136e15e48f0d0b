"""The two ways a write can lose to another writer, and the checks that
raise them: a lease taken over (LeaseLost) and a row written first by
someone else (WriteConflict)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, and_, update
from sqlalchemy.exc import IntegrityError

from feedsvc.errors import FeedsvcError
from feedsvc.storage.engine import one_line


class LeaseLost(FeedsvcError):
    """Another worker took the source over (our lease expired): the poll's
    writes were rolled back."""


class WriteConflict(FeedsvcError):
    """Another writer stored the same article (a new article, or the next
    version number) while this poll was deciding. The whole poll was rolled
    back; polled again, it decides against what is stored now."""


def release_lease(conn: Connection, table: Table, row_id: Any, owner: str, **values: Any) -> int:
    """Drop `owner`'s lease on one row of `table` (sources or articles: both
    have lease_owner and lease_until), writing `values` with it. Returns how
    many rows matched: 0 when someone else holds the row now."""
    return int(
        conn.execute(
            update(table)
            .where(and_(table.c.id == row_id, table.c.lease_owner == owner))
            .values(lease_owner=None, lease_until=None, **values)
        ).rowcount
    )


def end_lease(
    conn: Connection, table: Table, row_id: Any, owner: str, what: str, **values: Any
) -> None:
    """Release the lease as the last write of a poll or check; raises
    LeaseLost (the caller's transaction then rolls back) when another
    worker owns the row now."""
    if release_lease(conn, table, row_id, owner, **values) != 1:
        raise LeaseLost(f"{what}: lease lost to another worker")


@contextmanager
def write_conflicts(what: str) -> Iterator[None]:
    """Turn a unique-constraint failure (another writer inserted the same
    article or version number first) into WriteConflict."""
    try:
        yield
    except IntegrityError as exc:
        raise WriteConflict(f"{what} ({one_line(exc.orig or exc)})") from None
