"""WebSub publishing: tell the hub when a feed changed.

Ingest never waits for the hub. A poll only bumps feed_state.serial (which
it does anyway, for the web nodes' caches); this separate job, run by the
scheduler's ticker and after `feedsvc poll`, finds feeds whose serial moved
past the one the hub was last told about and pings the hub for each
(hub.mode=publish, hub.url=the feed). A failing hub is retried with
exponential backoff, recorded in feed_state, and harms nothing else.

This module posts to the one hub named in the config, not to upstreams, so
it has a small client of its own rather than going through fetch.Fetcher
(whose politeness rules are about sources).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from feedsvc.config import Settings
from feedsvc.links import Links
from feedsvc.storage import HubState

log = logging.getLogger("feedsvc.websub")

FIRST_RETRY = 60.0
MAX_RETRY = 6 * 3600.0


def retry_delay(failures: int) -> float:
    """Seconds before the next attempt after `failures` failed ones in a
    row: 1 min, 2, 4, ... up to 6 hours."""
    return float(min(FIRST_RETRY * 2 ** max(0, failures - 1), MAX_RETRY))


@dataclass(frozen=True)
class Ping:
    feed: str
    serial: int
    error: str | None = None


class HubPinger:
    def __init__(
        self,
        settings: Settings,
        store: HubState,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not settings.service.hub:
            raise ValueError("no hub configured")
        self.hub = settings.service.hub
        self.store = store
        self.links = Links(settings.service.base_url)
        self.clock = clock
        self.client = client or httpx.Client(
            timeout=10.0, headers={"User-Agent": settings.user_agent}, follow_redirects=False
        )

    def close(self) -> None:
        self.client.close()

    def topics(self, feed: str) -> list[str]:
        """The documents that change with the feed and advertise the hub."""
        return [self.links.feed(feed), self.links.revisions(feed)]

    def run(self) -> list[Ping]:
        """Ping the hub for every feed changed since it was last told.
        Never raises: a broken hub is a recorded, retried failure."""
        done = []
        for feed, serial, failures in self.store.list_feeds_to_ping(self.clock()):
            error = self._publish(feed)
            if error is None:
                self.store.mark_pinged(feed, serial)
            else:
                failures += 1
                retry_at = self.clock() + timedelta(seconds=retry_delay(failures))
                self.store.record_ping_failure(feed, failures, retry_at, error)
                log.warning(
                    "hub %s: ping for %s failed (%s); retry at %s",
                    self.hub,
                    feed,
                    error,
                    retry_at.isoformat(timespec="seconds"),
                )
            done.append(Ping(feed, serial, error))
        return done

    def _publish(self, feed: str) -> str | None:
        for topic in self.topics(feed):
            try:
                answer = self.client.post(self.hub, data={"hub.mode": "publish", "hub.url": topic})
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"
            if not 200 <= answer.status_code < 300:
                return f"HTTP {answer.status_code}"
        return None
