"""The notification outbox's reads and writes (the rows themselves are
written by feedsvc/notify/outbox.py's version hook, inside the version's
transaction). A message is claimed with a lease the way sources are (a
conditional UPDATE; FOR UPDATE SKIP LOCKED on PostgreSQL), so two workers
never send one message at once. Rows stay after delivery: they are the
record (`feedsvc notify status`, /metrics) and the webhook id's memory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from feedsvc.storage.queue import QueueStore
from feedsvc.storage.tables import outbox

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    message_id: str
    target: str
    channel: int
    feed: str
    article_id: str
    version: int
    created_at: datetime
    state: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None


def message_row(r: Any) -> OutboxRow:
    return OutboxRow(**{k: getattr(r, k) for k in OutboxRow.__dataclass_fields__})


@dataclass(frozen=True)
class TargetCounts:
    target: str
    pending: int = 0
    delivered: int = 0
    failed: int = 0
    retried: int = 0  # attempts beyond the first, over every message
    waiting: int = 0  # pending messages that failed at least once


class OutboxStore(QueueStore):
    """Claim, record and report notification messages."""

    def claim_message(
        self, target: str, channel: int, now: datetime, owner: str, lease_until: datetime
    ) -> OutboxRow | None:
        """Lease the most overdue pending message of one channel, or None."""
        where = and_(
            outbox.c.target == target,
            outbox.c.channel == channel,
            outbox.c.state == PENDING,
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
        )
        with self._write() as conn:
            row = self._claim_next(
                conn, outbox, where, outbox.c.next_attempt_at, owner, lease_until
            )
        return message_row(row) if row is not None else None

    def record_attempt(self, row: OutboxRow, owner: str, **values: Any) -> bool:
        """Write an attempt's outcome and drop the lease; False (nothing
        written) if another process took the message over meanwhile."""
        with self._write() as conn:
            got = conn.execute(
                update(outbox)
                .where(and_(outbox.c.id == row.id, outbox.c.lease_owner == owner))
                .values(lease_owner=None, lease_until=None, **values)
            ).rowcount
        return got == 1

    def list_message_lease_owners(self, now: datetime) -> set[str]:
        """Who holds an unexpired lease on a message now."""
        return self._lease_owners(outbox, now)

    def release_message_leases(self, owners: Iterable[str]) -> int:
        """Drop the leases of processes known to be dead: their messages are
        due again at once (sent again, with the same id: at least once)."""
        return self._release_leases(outbox, owners)

    def list_messages(
        self, *, states: Sequence[str] = (PENDING, FAILED), limit: int = 1000
    ) -> list[OutboxRow]:
        """Messages in these states, oldest first (`feedsvc notify status`)."""
        q = (
            select(outbox)
            .where(outbox.c.state.in_(list(states)))
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [message_row(r) for r in conn.execute(q)]

    def count_messages(self) -> list[TargetCounts]:
        """Per target: messages pending, delivered and given up, and retries."""
        q = select(
            outbox.c.target,
            outbox.c.state,
            func.count(),
            func.coalesce(func.sum(outbox.c.attempts), 0),
            func.count().filter(outbox.c.attempts > 0),
        ).group_by(outbox.c.target, outbox.c.state)
        found: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for target, state, n, attempts, tried in conn.execute(q):
                c = found.setdefault(
                    target, {"pending": 0, "delivered": 0, "failed": 0, "retried": 0, "waiting": 0}
                )
                c[{PENDING: "pending", DONE: "delivered", FAILED: "failed"}[state]] += n
                c["retried"] += int(attempts) - int(tried)
                if state == PENDING:
                    c["waiting"] += int(tried)
        return [TargetCounts(t, **c) for t, c in sorted(found.items())]

    def list_failing_channels(self, limit: int = 50) -> list[dict[str, Any]]:
        """Channels in trouble, for /healthz: those retrying a message now, or
        that gave one up since their last delivery; with the latest error."""
        last_ok = (
            select(outbox.c.target, outbox.c.channel, func.max(outbox.c.delivered_at).label("ok"))
            .where(outbox.c.state == DONE)
            .group_by(outbox.c.target, outbox.c.channel)
        )
        troubled = (
            select(outbox)
            .where(
                or_(
                    outbox.c.state == FAILED, and_(outbox.c.state == PENDING, outbox.c.attempts > 0)
                )
            )
            .order_by(outbox.c.last_attempt_at, outbox.c.id)
        )
        out: dict[tuple[str, int], dict[str, Any]] = {}
        with self.engine.connect() as conn:
            ok = {(r.target, r.channel): r.ok for r in conn.execute(last_ok)}
            for r in conn.execute(troubled):
                delivered = ok.get((r.target, r.channel))
                if r.state == FAILED and delivered is not None and delivered >= r.last_attempt_at:
                    continue  # given up before the channel recovered
                entry = out.setdefault(
                    (r.target, r.channel),
                    {"target": r.target, "channel": r.channel, "retrying": 0, "failed": 0},
                )
                entry["retrying" if r.state == PENDING else "failed"] += 1
                entry["last_error"] = r.last_error
                entry["last_attempt_at"] = r.last_attempt_at
                if r.state == PENDING:
                    nxt = entry.get("next_attempt_at")
                    entry["next_attempt_at"] = (
                        min(nxt, r.next_attempt_at) if nxt else r.next_attempt_at
                    )
                else:
                    entry.setdefault("next_attempt_at", None)
        return list(out.values())[:limit]
