"""The scheduler's side of a poll: claiming sources and article pages,
polling them in a bounded pool of threads, renewing the leases of the polls
in flight. One poll itself is the Updater's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

from feedsvc.leases import dead_here
from feedsvc.models import PollOutcome, SourceForUpdate
from feedsvc.update import Updater

log = logging.getLogger("feedsvc.scheduler")

Claim = Callable[[], SourceForUpdate | None]


def poll_sources(
    updater: Updater,
    owner: str,
    *,
    feed: str | None = None,
    due_only: bool = True,
    everything: bool = False,
    limit: int = 1000,
    progress: Callable[[PollOutcome], None] | None = None,
    stopping: threading.Event | None = None,
) -> list[PollOutcome]:
    """Poll sources (the due ones, or all of them) in a bounded pool.
    Each is claimed just before its poll, so a lease never runs down
    while the source waits in a queue, and a worker takes only what it
    can poll now. Returns one outcome per source polled (at most
    `limit`); sources another process holds are skipped. Once `stopping`
    is set nothing more is claimed; the polls in flight finish.
    `everything` (`feedsvc poll`): a feed that changed has the page of
    every entry checked, not only of those new or changed in it."""
    store = updater.store
    now = updater.clock()
    dead = [o for o in store.list_lease_owners(now) if dead_here(o)]
    if dead:
        log.info("dropping leases of dead processes: %s", ", ".join(sorted(dead)))
        store.release_leases(dead)
    concurrency = updater.settings.scheduler.concurrency
    if due_only:
        claims = _next_due(updater, owner, feed)
        threads = concurrency
    else:
        ids = store.list_candidate_sources(now, limit=limit, feed=feed, due_only=False)
        claims = _each_of(updater, ids, owner)
        threads = max(1, min(concurrency, limit))
    run = _Run(updater, owner, claims, limit, progress, stopping or threading.Event())
    run.everything = everything
    return run.run(threads)


def lease_until(updater: Updater, now: datetime) -> datetime:
    return now + timedelta(seconds=updater.settings.scheduler.lease)


def _next_due(updater: Updater, owner: str, feed: str | None) -> Claim:
    def claim() -> SourceForUpdate | None:
        now = updater.clock()
        return updater.store.claim_next_source(now, owner, lease_until(updater, now), feed=feed)

    return claim


def _each_of(updater: Updater, ids: list[int], owner: str) -> Claim:
    pending = list(reversed(ids))
    lock = threading.Lock()

    def claim() -> SourceForUpdate | None:
        while True:
            with lock:
                if not pending:
                    return None
                source_id = pending.pop()
            now = updater.clock()
            source = updater.store.claim_source(
                source_id, now, owner, lease_until(updater, now), due_only=False
            )
            if source is not None:
                return source  # else another process holds it: next one

    return claim


class _Run:
    """One round of polls: `threads` pool threads each claim and poll until
    `claim` has nothing more or `limit` polls were started, while the
    calling thread renews the leases of the polls in flight, so a poll that
    outlives its lease is not taken over by another worker."""

    def __init__(
        self,
        updater: Updater,
        owner: str,
        claim: Claim,
        limit: int,
        progress: Callable[[PollOutcome], None] | None,
        stopping: threading.Event,
    ) -> None:
        self.updater = updater
        self.owner = owner
        self.claim = claim
        self.budget = limit
        self.progress = progress
        self.stopping = stopping
        self.lock = threading.Lock()
        self.in_flight: set[int] = set()
        self.outcomes: list[PollOutcome] = []
        self.everything = False

    def run(self, threads: int) -> list[PollOutcome]:
        lease = self.updater.settings.scheduler.lease
        with ThreadPoolExecutor(threads, thread_name_prefix="poll") as pool:
            futures: list[Future[None]] = [pool.submit(self.work) for _ in range(threads)]
            while True:
                done, running = wait(futures, timeout=lease / 3, return_when=FIRST_EXCEPTION)
                for future in done:
                    future.result()  # a failed claim (database down) ends the round
                if not running:
                    break
                with self.lock:
                    held = list(self.in_flight)
                until = lease_until(self.updater, self.updater.clock())
                self.updater.store.renew_leases(self.owner, held, until)
        return self.outcomes

    def work(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                if self.budget <= 0:
                    return
                self.budget -= 1
            source = self.claim()
            if source is None:
                return
            with self.lock:
                self.in_flight.add(source.id)
            try:
                outcome = self.updater.poll_source(source, everything=self.everything)
            finally:
                with self.lock:
                    self.in_flight.discard(source.id)
            with self.lock:
                self.outcomes.append(outcome)
                if self.progress:
                    self.progress(outcome)


def check_articles(
    updater: Updater,
    owner: str,
    *,
    limit: int = 100,
    feed: str | None = None,
    in_sources: Sequence[int] = (),
) -> list[PollOutcome]:
    """Check the pages that are due, each claimed just before its fetch.
    With `in_sources` (`feedsvc poll`: look at everything now), also
    every page those sources still list, due or not: a feed that
    answered 304 says nothing of edits to its articles' pages."""
    candidates = updater.store.list_candidate_articles(
        updater.clock(), limit=limit, feed=feed, in_sources=in_sources
    )
    due_only = not in_sources
    outcomes = []
    workers = max(1, min(updater.settings.scheduler.concurrency, len(candidates)))

    def claim_and_check(aid: str) -> PollOutcome | None:
        now = updater.clock()
        until = lease_until(updater, now)
        claim = updater.store.claim_article(aid, now, owner, until, due_only=due_only)
        return updater.check_article(claim) if claim is not None else None

    with ThreadPoolExecutor(workers, thread_name_prefix="check") as pool:
        for outcome in pool.map(claim_and_check, candidates):
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes
