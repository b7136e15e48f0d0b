"""Deliver the outbox: claim a message with a lease, send it, record what
happened. At least once: a process killed between sending and recording
leaves the lease, which expires (or is dropped at once when the process is
known dead), and the message goes again with the same webhook id.

Failures are retried with exponential backoff and jitter (first_retry,
doubling, at most max_retry), a 429/503 Retry-After is honoured, and a
message still failing give_up_after past its version is marked failed with
its last error. Each channel (a webhook, or one Apprise URL) has a thread
of its own, apart from polling: a slow or dead one delays nothing else.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feedsvc.config import NotifySettings, Settings
from feedsvc.errors import NotFound
from feedsvc.leases import dead_here, worker_id
from feedsvc.links import Links
from feedsvc.notify import outbox
from feedsvc.notify.message import Change, Renderer, context, load_change, payload
from feedsvc.notify.send import (
    AppriseSender,
    Result,
    WebhookSender,
    apprise_plugin,
    limits,
    preferred_format,
)
from feedsvc.storage import Store
from feedsvc.storage.outbox import DONE, FAILED, PENDING, OutboxRow

log = logging.getLogger("feedsvc.notify")
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Attempt:
    """One send of one message, as recorded."""

    row: OutboxRow
    result: Result
    state: str  # pending (to retry), done or failed
    next_attempt_at: datetime | None


def backoff(attempts: int, first: float, most: float, rng: random.Random) -> float:
    """Seconds to wait after the `attempts`-th failure: first, doubled each
    time, at most `most`, spread by +-20% so that messages failing together
    do not all come back at the same second."""
    base = min(most, first * 2 ** max(0, attempts - 1))
    return min(most, base * rng.uniform(0.8, 1.2))


class Deliverer:
    """Sends messages for every [[notify]] target. deliver_due() does one
    pass over every channel (tests, `feedsvc notify`), DeliveryLoop runs it
    in the background."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.rng = rng or random.Random()
        self.links = Links(settings.service.base_url)
        self.renderers = {t.name: Renderer(t) for t in settings.notify}
        self.webhooks = WebhookSender(settings.user_agent, settings.delivery.timeout)
        self.apprise = AppriseSender(settings.delivery.timeout)
        self.stopping = threading.Event()

    def apply_settings(self, new: Settings) -> None:
        """A reloaded config: its targets, templates, links and [delivery]
        settings apply from the next message on. A send in flight finishes
        with the sender it started with."""
        old = self.settings
        self.links = Links(new.service.base_url)
        self.renderers = {t.name: Renderer(t) for t in new.notify}
        if (new.user_agent, new.delivery.timeout) != (old.user_agent, old.delivery.timeout):
            self.webhooks = WebhookSender(new.user_agent, new.delivery.timeout)
            self.apprise = AppriseSender(new.delivery.timeout)
        self.settings = new

    def close(self) -> None:
        self.webhooks.close()

    def channels(self) -> list[tuple[str, int]]:
        return [(t.name, ch) for t in self.settings.notify for ch in outbox.channels(t)]

    # -- one message -----------------------------------------------------------

    def _lease_until(self) -> datetime:
        # Long enough for any send (each is bounded by the delivery timeout).
        return self.clock() + timedelta(seconds=max(60.0, self.settings.delivery.timeout * 6))

    def deliver_next(self, owner: str, target: str, channel: int) -> Attempt | None:
        """Claim, send and record the most overdue message of one channel;
        None when nothing is due (or another process holds it)."""
        row = self.store.claim_message(target, channel, self.clock(), owner, self._lease_until())
        if row is None:
            return None
        result = self.send(row)
        return self._record(row, owner, result)

    def send(self, row: OutboxRow) -> Result:
        """Send one message now. Never raises."""
        try:
            change = load_change(self.store, row.article_id, row.version)
        except NotFound as exc:
            return Result(False, error=f"cannot load the version: {exc}")
        try:
            target = self.settings.target(row.target)
        except KeyError:  # removed by a reload while the message was claimed
            return Result(False, error=f"no [[notify]] target named {row.target!r} any more")
        return self.send_change(target, row.channel, row.message_id, change)

    def send_change(
        self, target: NotifySettings, channel: int, msg_id: str, change: Change
    ) -> Result:
        try:
            if target.webhook is not None:
                assert target.secret is not None
                event = json.dumps(payload(change, self.links), ensure_ascii=False).encode()
                return self.webhooks.send(
                    target.webhook, target.secret, msg_id, event, self.clock()
                )
            url = target.urls[channel]
            plugin = apprise_plugin(url)
            if plugin is None:
                return Result(False, error="Apprise does not understand this URL")
            renderer = self.renderers[target.name]
            fmt = preferred_format(plugin)
            title_max, body_max = limits(plugin)
            ctx = context(change, self.links)
            title = renderer.title(ctx, title_max or 250)
            if not title_max and body_max:  # no title on this channel: it goes in the body
                body_max -= len(title) + 2
            body = renderer.body(ctx, fmt, max(body_max, 200) if body_max else 0)
            return self.apprise.send(url, title, body, fmt)
        except Exception as exc:  # a template or plugin bug: record it, keep going
            log.exception("notify %s: sending failed", target.name)
            return Result(False, error=f"{type(exc).__name__}: {exc}")

    def _record(self, row: OutboxRow, owner: str, result: Result) -> Attempt:
        now = self.clock()
        attempts = row.attempts + 1
        common = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status": result.status,
        }
        if result.ok:
            state, nxt = DONE, None
            values = {**common, "state": DONE, "delivered_at": now}
        else:
            d = self.settings.delivery
            if now - row.created_at >= timedelta(seconds=d.give_up_after):
                state, nxt = FAILED, None
            else:
                if result.retry_after is not None:
                    wait = result.retry_after
                else:
                    wait = backoff(attempts, d.first_retry, d.max_retry, self.rng)
                state, nxt = PENDING, now + timedelta(seconds=wait)
            values = {**common, "state": state, "last_error": (result.error or "")[:2000]}
            if nxt is not None:
                values["next_attempt_at"] = nxt
            log.warning(
                "notify %s[%d]: article %s version %d: %s (attempt %d; %s)",
                row.target,
                row.channel,
                row.article_id,
                row.version,
                result.error,
                attempts,
                f"next at {nxt:%H:%M:%S}" if nxt else "given up",
            )
        if not self.store.record_attempt(row, owner, **values):
            log.warning(
                "notify %s: message %s was taken over by another worker", row.target, row.id
            )
        return Attempt(row, result, state, nxt)

    # -- many --------------------------------------------------------------------

    def release_dead(self) -> None:
        dead = [o for o in self.store.list_message_lease_owners(self.clock()) if dead_here(o)]
        if dead:
            log.info("notify: dropping leases of dead processes: %s", ", ".join(sorted(dead)))
            self.store.release_message_leases(dead)

    def drain(
        self,
        owner: str,
        target: str,
        channel: int,
        limit: int = 100,
        *,
        until_failure: bool = False,
    ) -> list[Attempt]:
        """Send what is due on one channel, one message after another; with
        until_failure, stop at the first failed send (the rest of a dead
        channel waits for the next pass instead of a timeout each)."""
        done: list[Attempt] = []
        while len(done) < limit and not self.stopping.is_set():
            attempt = self.deliver_next(owner, target, channel)
            if attempt is None:
                break
            done.append(attempt)
            if until_failure and not attempt.result.ok:
                break
        return done

    def deliver_due(self, owner: str | None = None) -> list[Attempt]:
        """One pass: every channel's due messages, one channel after another."""
        owner = owner or worker_id()
        self.release_dead()
        out = []
        for target, channel in self.channels():
            out.extend(self.drain(owner, target, channel))
        return out


def deliver_once(deliverer: Deliverer, owner: str | None = None) -> list[Attempt]:
    """What `feedsvc poll` sends before it exits: every channel's due
    messages, the channels side by side, each channel until its first
    failure (that message, and the ones behind it, go on the next pass with
    the usual backoff). Bounded by about one send timeout per channel when
    every target is down."""
    owner = owner or worker_id()
    deliverer.release_dead()
    channels = deliverer.channels()
    if not channels:
        return []
    with ThreadPoolExecutor(len(channels), thread_name_prefix="notify") as pool:
        drains = [
            pool.submit(deliverer.drain, owner, target, channel, until_failure=True)
            for target, channel in channels
        ]
        return [attempt for drain in drains for attempt in drain.result()]


class DeliveryLoop:
    """The delivery job of `feedsvc run` and `feedsvc worker`: every tick,
    each channel that is idle gets a drain on a thread of its own, so a
    channel stuck on a dead target holds only its own thread."""

    def __init__(self, deliverer: Deliverer, tick: float, owner: str | None = None) -> None:
        self.deliverer = deliverer
        self.tick = tick
        self.owner = owner or worker_id()
        self.threads = max(1, len(deliverer.channels()))
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="notify")
        self.running: dict[tuple[str, int], Future[list[Attempt]]] = {}
        self.thread = threading.Thread(target=self._loop, name="notify-ticker", daemon=True)

    def start(self) -> None:
        self.thread.start()
        log.info("delivering notifications to %d channels", len(self.deliverer.channels()))

    def _loop(self) -> None:
        while not self.deliverer.stopping.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("notify: delivery tick failed")
            self.deliverer.stopping.wait(self.tick)

    def run_once(self) -> None:
        self.deliverer.release_dead()
        for channel in self.deliverer.channels():
            busy = self.running.get(channel)
            if busy is not None and not busy.done():
                continue
            self.running[channel] = self.pool.submit(self._drain, *channel)

    def apply_settings(self, new: Settings) -> None:
        """A reloaded config: new targets and channels are drained from the
        next tick, removed ones are no longer claimed (their pending
        messages stay in the outbox)."""
        self.deliverer.apply_settings(new)
        self.tick = new.scheduler.tick
        wanted = len(self.deliverer.channels())
        if wanted > self.threads:  # a thread a channel; drains in flight finish on the old pool
            old, self.threads = self.pool, wanted
            self.pool = ThreadPoolExecutor(wanted, thread_name_prefix="notify")
            old.shutdown(wait=False)

    def _drain(self, target: str, channel: int) -> list[Attempt]:
        try:
            return self.deliverer.drain(self.owner, target, channel)
        except Exception:
            log.exception("notify %s[%d]: delivery failed", target, channel)
            return []

    def stop(self) -> None:
        """Stop claiming; sends in flight finish (each bounded by the timeout)."""
        self.deliverer.stopping.set()
        if self.thread.is_alive():
            self.thread.join()
        self.pool.shutdown(wait=True)
        self.deliverer.close()
