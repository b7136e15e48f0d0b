"""The scheduler of one worker process: work-conserving, per-host limited.

While sources or article pages are due and a poll slot is free, it claims
them (in batches, under a lease) and polls them; when nothing is due it
sleeps until the earliest next due time, a poll finishing, a stop, or
`tick` at most (another worker or a restart may have changed the schedule
meanwhile). The schedule itself lives in the database (next_poll_at,
next_check_at), so a restart resumes it and any number of processes can
share it: whoever's conditional UPDATE matched a row polls it.

Slots are per process (`concurrency`) and per host (`per_host`): a host
already polled `per_host` times at once is left out of the claims, and
anything claimed for it anyway waits in this process's queue for that host
while the other hosts' polls proceed. The leases of everything claimed
(polling or waiting) are renewed while it is held, so only a dead worker's
claims return to the others, once their lease runs out.

WebSub pings run as an APScheduler job of their own: a slow or broken hub
never delays a poll, and a poll never waits for the hub.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from feedsvc.fetch import host_of
from feedsvc.leases import dead_here, worker_id
from feedsvc.maintenance import PRUNE_EVERY, prune
from feedsvc.models import ArticleForCheck, PollOutcome, SourceForUpdate
from feedsvc.reading import is_url
from feedsvc.storage import HubState, WorkQueue
from feedsvc.update import Updater
from feedsvc.websub import HubPinger

log = logging.getLogger("feedsvc.scheduler")

MAX_WAITING = 256  # claimed jobs waiting for their host, at most, per process
# Work is claimed a batch ahead of the poll threads: at least a row per
# slot, and as many as the threads get through in CLAIM_AHEAD seconds, up to
# MAX_BATCH. A claim is a statement and a transaction, and costs about as
# much as a poll that finds nothing new; claimed too far ahead, work waits
# here while another worker is idle.
CLAIM_AHEAD = 0.25
MAX_BATCH = 16
REPORT_EVERY = 60.0  # seconds between the scheduler's summary log lines


@dataclass(frozen=True)
class Job:
    """A claimed source or article page, and the host its fetch goes to
    ("" for a local file: no host limit)."""

    host: str
    source: SourceForUpdate | None = None
    page: ArticleForCheck | None = None

    @property
    def key(self) -> tuple[str, int | str]:
        if self.source is not None:
            return ("source", self.source.id)
        assert self.page is not None
        return ("page", self.page.article.id)

    @property
    def due_at(self) -> datetime | None:
        if self.source is not None:
            return self.source.due_at
        assert self.page is not None
        return self.page.article.next_check_at

    @classmethod
    def of_source(cls, source: SourceForUpdate) -> Job:
        return cls(host_of(source.url) if is_url(source.url) else "", source=source)

    @classmethod
    def of_page(cls, page: ArticleForCheck) -> Job:
        return cls(host_of(page.article.url or ""), page=page)


class _Once:
    """Calls `func` the first time it is called, never again."""

    def __init__(self, func: Callable[[], None]) -> None:
        self.func: Callable[[], None] | None = func
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            func, self.func = self.func, None
        if func is not None:
            func()


class Lateness:
    """How long after its due time each poll started: the scheduler's own
    measure of keeping up, logged every REPORT_EVERY seconds and at stop."""

    def __init__(self) -> None:
        self.window: list[float] = []
        self.total = 0
        self.all: list[float] = []

    def add(self, seconds: float) -> None:
        self.window.append(seconds)
        self.total += 1
        if len(self.all) < 1_000_000:
            self.all.append(seconds)

    @staticmethod
    def summary(samples: list[float]) -> str:
        if not samples:
            return "no polls"
        ordered = sorted(samples)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{len(ordered)} polls, lateness median {statistics.median(ordered):.3f}s "
            f"p99 {p99:.3f}s"
        )


class Scheduler:
    def __init__(
        self,
        updater: Updater,
        queue: WorkQueue,
        owner: str | None = None,
        *,
        hub_state: HubState | None = None,
        on_outcome: Callable[[PollOutcome], None] | None = None,
    ) -> None:
        self.updater = updater
        self.store = queue
        self.clock = updater.clock
        self.owner = owner or worker_id()
        sched = updater.settings.scheduler
        self.slots = sched.concurrency
        self.poll_seconds = 1.0  # a poll's time, moving average (see _batch)
        self.per_host = sched.per_host
        self.lease = sched.lease
        self.max_sleep = sched.tick
        self.on_outcome = on_outcome
        # Set when the process is stopping: no new claims, polls in flight finish.
        self.stopping = threading.Event()
        self.wake = threading.Event()  # room to claim, or stop
        self.lock = threading.Lock()
        self.running: dict[tuple[str, int | str], Job] = {}
        self.waiting: dict[str, deque[Job]] = {}
        self.busy: Counter[str] = Counter()
        self.lateness = Lateness()
        self.pool = ThreadPoolExecutor(self.slots, thread_name_prefix="poll")
        self.thread: threading.Thread | None = None
        # Housekeeping runs as jobs of its own: a slow or broken hub, or a
        # long prune, never delays a poll, and a poll never waits for them.
        self.jobs = BackgroundScheduler(timezone="UTC")
        self.pinger: HubPinger | None = None
        if updater.settings.service.hub and hub_state is not None:
            self.pinger = HubPinger(updater.settings, hub_state, clock=updater.clock)
            self.jobs.add_job(
                self.ping_hub, "interval", seconds=sched.tick, max_instances=1, coalesce=True
            )
        if updater.settings.storage.keep_raw is not None:
            self.jobs.add_job(self.prune, "interval", seconds=PRUNE_EVERY, max_instances=1)

    # -- the process's life ------------------------------------------------

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        self.thread.start()
        if self.jobs.get_jobs():
            self.jobs.start()
        log.info(
            "scheduler %s started: %d slots, %d per host", self.owner, self.slots, self.per_host
        )

    def stop(self) -> None:
        """Stop claiming, let the polls in flight finish (each is bounded by
        the fetch timeout), then stop. Cutting them off would record them as
        failures and back their sources off for nothing."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join()
        if self.jobs.running:
            self.jobs.shutdown(wait=True)
        if self.pinger is not None:
            self.pinger.close()
        log.info("scheduler %s stopped: %s", self.owner, Lateness.summary(self.lateness.all))

    def prune(self) -> None:
        """Delete raw evidence past [storage] keep_raw. Never raises."""
        try:
            prune(self.updater.settings, self.updater.store)  # type: ignore[arg-type]
        except Exception:
            log.exception("pruning raw responses failed")

    def ping_hub(self) -> None:
        """Tell the hub about changed feeds. Never raises."""
        assert self.pinger is not None
        try:
            self.pinger.run()
        except Exception:
            log.exception("hub pings failed")

    def run(self) -> None:
        """Claim and poll until stopped; then wait for the polls in flight
        (renewing their leases) and give back what was claimed but not
        started."""
        next_renewal = next_report = 0.0
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                now = time.monotonic()
                if now >= next_renewal:
                    self._renew()
                    self._drop_dead_leases()
                    next_renewal = now + self.lease / 3
                if now >= next_report:
                    self._report()
                    next_report = now + REPORT_EVERY
                if self.fill():
                    continue
                timeout = min(self._idle_for(), max(0.0, next_renewal - now))
            except Exception:
                log.exception("scheduler: claiming failed (database down?)")
                timeout = self.max_sleep
            self.wake.wait(timeout)
        self._finish_in_flight()

    def run_until_idle(self, timeout: float = 60.0) -> None:
        """Claim and poll until nothing is due and nothing is in flight (for
        `feedsvc poll` and tests): one pass of the same machinery."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.wake.clear()
            claimed = self.fill()
            with self.lock:
                idle = not self.running and not any(self.waiting.values())
            if idle and not claimed:
                return
            if not claimed:
                self.wake.wait(0.5)
        raise TimeoutError(f"scheduler: still busy after {timeout}s")

    # -- claiming ------------------------------------------------------------

    def fill(self) -> int:
        """Claim as much due work as there are free slots (and room to hold
        it), and start it. Returns how much was claimed."""
        with self.lock:
            if self._batch_ahead():
                return 0  # the threads have work; claim a whole batch later
            free = self.slots + self._batch() - len(self.running)
            room = MAX_WAITING - sum(len(q) for q in self.waiting.values())
            full = {h for h, n in self.busy.items() if h and n >= self.per_host}
        limit = min(free, room)
        if limit <= 0 or self.stopping.is_set():
            return 0
        now = self.clock()
        until = now + timedelta(seconds=self.lease)
        jobs = [
            Job.of_source(s)
            for s in self.store.claim_due_sources(
                now, self.owner, until, limit=limit, skip_hosts=full
            )
        ]
        if len(jobs) < limit:
            pages = self.store.claim_due_articles(
                now, self.owner, until, limit=limit - len(jobs), skip_hosts=full
            )
            jobs += [Job.of_page(p) for p in pages]
        for job in jobs:
            self._enqueue(job)
        return len(jobs)

    def _batch_ahead(self) -> bool:
        """(With self.lock held.) Is a batch still ahead of the threads?
        Then the next claim waits until a whole batch is free: claiming one
        row each time a poll ends would make every claim a statement (and a
        transaction) per poll."""
        return len(self.running) > self.slots

    def _enqueue(self, job: Job) -> None:
        with self.lock:
            if job.host and self.busy[job.host] >= self.per_host:
                self.waiting.setdefault(job.host, deque()).append(job)
                return
            self._start(job)

    def _start(self, job: Job) -> None:
        """Hand a job to the pool (with self.lock held): a thread takes it
        at once, or as soon as one is free. Claims are made for a batch
        ahead, so the threads never wait for the next claim."""
        self.busy[job.host] += 1
        self.running[job.key] = job
        self.pool.submit(self._poll, job)

    def _poll(self, job: Job) -> None:
        outcome: PollOutcome | None = None
        fetched = _Once(lambda: self._fetched(job))
        started = time.monotonic()
        try:
            if self.stopping.is_set():
                self._release(job)  # claimed, not started: let another worker have it
            else:
                if job.due_at is not None:
                    self.lateness.add(max(0.0, (self.clock() - job.due_at).total_seconds()))
                if job.source is not None:
                    outcome = self.updater.poll_source(job.source, fetched=fetched)
                elif job.page is not None:
                    outcome = self.updater.check_article(job.page, fetched=fetched)
        except Exception:  # poll_source and check_article never raise; a bug
            log.exception("scheduler: poll of %s failed", job.key)
        finally:
            fetched()
            with self.lock:
                del self.running[job.key]
                self.poll_seconds += (time.monotonic() - started - self.poll_seconds) / 16
                claim = not self._batch_ahead()
            if claim or self.stopping.is_set():
                self.wake.set()  # once a batch of slots is free, not at every poll
        if outcome is not None and self.on_outcome is not None:
            self.on_outcome(outcome)

    def _batch(self) -> int:
        """(With self.lock held.) The rows a claim takes: what the threads
        get through in CLAIM_AHEAD seconds at the recent poll time."""
        rows = int(self.slots * CLAIM_AHEAD / max(self.poll_seconds, 1e-3))
        return max(self.slots, min(rows, MAX_BATCH))

    def _fetched(self, job: Job) -> None:
        """The job's request is answered: its host may take the next one
        (parsing and writing need no more of the host's slots)."""
        with self.lock:
            was_full = self.busy[job.host] >= self.per_host
            self.busy[job.host] -= 1
            if self.busy[job.host] <= 0:
                del self.busy[job.host]
            queue = self.waiting.get(job.host)
            started = bool(queue) and not self.stopping.is_set()
            if started:
                assert queue is not None
                self._start(queue.popleft())
            if queue is not None and not queue:
                del self.waiting[job.host]
            # The claims left this host out while it was full: claim again.
            claim = was_full and not started and not self._batch_ahead()
        if claim:
            self.wake.set()

    def _idle_for(self) -> float:
        """How long to sleep when nothing could be claimed: until the next
        due time, or until a poll finishes (the wake event), at most tick."""
        with self.lock:
            if self._batch_ahead():
                return self.max_sleep  # a poll finishing wakes us
        due = self.store.next_due_at()
        if due is None:
            return self.max_sleep
        ahead = (due - self.clock()).total_seconds()
        if ahead <= 0:
            # Due but not claimed: its host is full here, or another worker
            # is claiming it right now. A poll finishing wakes us.
            return self.max_sleep
        return min(self.max_sleep, ahead + 0.01)

    # -- leases --------------------------------------------------------------

    def _held(self) -> tuple[list[int], list[str]]:
        with self.lock:
            jobs = list(self.running.values())
            jobs += [j for q in self.waiting.values() for j in q]
        sources = [j.source.id for j in jobs if j.source is not None]
        pages = [j.page.article.id for j in jobs if j.page is not None]
        return sources, pages

    def _renew(self) -> None:
        """Extend the leases of everything this process holds, so a slow
        poll (or one waiting for its host) is not taken over while alive."""
        sources, pages = self._held()
        until = self.clock() + timedelta(seconds=self.lease)
        self.store.renew_leases(self.owner, sources, until)
        self.store.renew_article_leases(self.owner, pages, until)

    def _drop_dead_leases(self) -> None:
        dead = [o for o in self.store.list_lease_owners(self.clock()) if dead_here(o)]
        if dead:
            log.info("dropping leases of dead processes: %s", ", ".join(sorted(dead)))
            self.store.release_leases(dead)

    def _finish_in_flight(self) -> None:
        with self.lock:
            left = [j for q in self.waiting.values() for j in q]
            self.waiting.clear()
        for job in left:  # claimed, never started: let another worker have it
            self._release(job)
        while True:
            with self.lock:
                if not self.running:
                    break
            self.wake.clear()
            if not self.wake.wait(self.lease / 3):
                self._renew()
        self.pool.shutdown(wait=True)

    def _release(self, job: Job) -> None:
        if job.source is not None:
            self.store.release_source(job.source)
        elif job.page is not None:
            self.store.release_article(job.page.article.id, self.owner)

    def _report(self) -> None:
        window, self.lateness.window = self.lateness.window, []
        if window:
            with self.lock:
                waiting = sum(len(q) for q in self.waiting.values())
            log.info(
                "scheduler %s: %s; %d in flight, %d waiting for their host",
                self.owner,
                Lateness.summary(window),
                len(self.running),
                waiting,
            )
