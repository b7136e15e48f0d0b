"""WebSub hub state: which feeds changed since the hub was last told, and
the backoff of failed pings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    and_,
    or_,
    select,
    update,
)

from feedsvc.storage.engine import StoreBase
from feedsvc.storage.tables import feed_state


class HubStore(StoreBase):
    """The publisher's state per feed."""

    def list_feeds_to_ping(self, now: datetime) -> list[tuple[str, int, int]]:
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

    def mark_pinged(self, feed: str, serial: int) -> None:
        """The hub was told about `serial`. Never moves backwards: a ping of
        an older serial that finishes late changes nothing."""
        with self._write() as conn:
            conn.execute(
                update(feed_state)
                .where(and_(feed_state.c.feed == feed, feed_state.c.pinged_serial < serial))
                .values(pinged_serial=serial, ping_failures=0, ping_after=None, ping_error=None)
            )

    def record_ping_failure(self, feed: str, failures: int, retry_at: datetime, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                update(feed_state)
                .where(feed_state.c.feed == feed)
                .values(ping_failures=failures, ping_after=retry_at, ping_error=error[:2000])
            )

    def get_ping_state(self, feed: str) -> tuple[int, int, datetime | None, str | None]:
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
