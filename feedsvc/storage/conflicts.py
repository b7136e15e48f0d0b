"""The two ways a write can lose to another writer, and the checks that
raise them: a lease taken over (LeaseLost) and a row written first by
someone else (WriteConflict)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, Update, and_, bindparam, update
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
    params = {f"v_{k}": v for k, v in values.items()}
    params |= {"w_id": row_id, "w_owner": owner}
    return int(conn.execute(_release(table, tuple(sorted(values))), params).rowcount)


@functools.cache
def _release(table: Table, columns: tuple[str, ...]) -> Update:
    """The UPDATE of release_lease for these columns, built once: it ends
    every poll, and building (and cache-keying) it each time cost more
    than running it."""
    return (
        update(table)
        .where(
            and_(
                table.c.id == bindparam("w_id", type_=table.c.id.type),
                table.c.lease_owner == bindparam("w_owner", type_=table.c.lease_owner.type),
            )
        )
        .values(
            lease_owner=None,
            lease_until=None,
            **{c: bindparam(f"v_{c}", type_=table.c[c].type) for c in columns},
        )
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
