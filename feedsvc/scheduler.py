"""APScheduler 3: one ticker job that claims due sources and polls them.

The schedule itself lives in the database (each source's next_poll_at), so
a restart resumes it and any number of processes can share it: a source is
claimed with a conditional update and only its claimer polls it.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from feedsvc.leases import worker_id
from feedsvc.maintenance import PRUNE_EVERY, prune
from feedsvc.storage import HubState
from feedsvc.update import Updater
from feedsvc.websub import HubPinger

log = logging.getLogger("feedsvc.scheduler")


class Ticker:
    def __init__(
        self, updater: Updater, owner: str | None = None, *, hub_state: HubState | None = None
    ) -> None:
        self.updater = updater
        self.owner = owner or worker_id()
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=updater.settings.scheduler.tick,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=None,
        )

        if updater.settings.storage.keep_raw is not None:
            self.scheduler.add_job(
                self.prune, "interval", seconds=PRUNE_EVERY, id="prune", max_instances=1
            )

        # WebSub pings run as a job of their own: a slow or broken hub
        # never delays a poll, and a poll never waits for the hub.
        self.pinger: HubPinger | None = None
        if updater.settings.service.hub and hub_state is not None:
            self.pinger = HubPinger(updater.settings, hub_state, clock=updater.clock)
            self.scheduler.add_job(
                self.ping_hub,
                "interval",
                seconds=updater.settings.scheduler.tick,
                id="hub",
                max_instances=1,
                coalesce=True,
            )

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

    def tick(self) -> None:
        """Poll the sources that are due, then check the article pages that
        are (developing stories, articles that left their feed). Never
        raises: the ticker must keep ticking."""
        limit = self.updater.settings.scheduler.concurrency * 4
        try:
            self.updater.poll(self.owner, limit=limit)
        except Exception:
            log.exception("tick failed: polling sources")
        try:
            self.updater.check_articles(self.owner, limit=limit)
        except Exception:
            log.exception("tick failed: checking article pages")

    def start(self) -> None:
        from datetime import UTC, datetime

        self.scheduler.start()
        self.scheduler.modify_job("tick", next_run_time=datetime.now(UTC))
        log.info(
            "scheduler %s started, ticking every %ss",
            self.owner,
            self.updater.settings.scheduler.tick,
        )

    def stop(self) -> None:
        """Stop claiming, let the polls in flight finish (each is bounded by
        the fetch timeout), then stop. Cutting them off would record them as
        failures and back their sources off for nothing."""
        self.updater.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.pinger is not None:
            self.pinger.close()
