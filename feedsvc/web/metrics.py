"""/metrics through prometheus_client, in its text format 0.0.4.

Web nodes are stateless, so most figures come from the database (what every
node agrees on), read at scrape time by a custom collector. The request
counters are this process's own; under gunicorn, set PROMETHEUS_MULTIPROC_DIR
to an empty directory (wiped before each start) and every worker writes its
counts there, so a scrape answered by any worker adds up all of them
(prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import (
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from feedsvc import __version__
from feedsvc.storage import ReadStore
from feedsvc.web import state
from feedsvc.web.security import is_admin

bp = Blueprint("metrics", __name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

_FEED_GAUGES = (
    ("sources", "Active sources configured for the feed."),
    ("failing", "Sources whose last poll failed."),
    ("gone", "Sources stopped because the upstream answered 410 Gone."),
    ("articles", "Articles with at least one version."),
    ("developing", "Articles whose latest version carries a developing marker."),
    ("versions", "Stored versions, all articles."),
    ("suspect", "Versions held out of the feed as probable extraction failures."),
)


# Notification messages by target, from the outbox (so every node agrees).
_NOTIFY = (
    ("delivered", CounterMetricFamily, "delivered", "Notification messages delivered."),
    ("retried", CounterMetricFamily, "retries", "Notification sends that failed and were retried."),
    (
        "failed",
        CounterMetricFamily,
        "failed",
        "Notification messages given up after give_up_after.",
    ),
    ("pending", GaugeMetricFamily, "pending", "Notification messages waiting to be sent."),
)


class StoreCollector(Collector):
    """The database's figures per feed (and per notification target),
    queried at each scrape. `targets` names the configured [[notify]]
    targets at the time of the scrape (a reload may change them)."""

    def __init__(self, store: ReadStore, targets: Callable[[], list[str]] = list) -> None:
        self.store = store
        self.targets = targets

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("feedsvc_info", "feedsvc version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        stats = self.store.get_feed_stats()
        for field, help_text in _FEED_GAUGES:
            family = GaugeMetricFamily(f"feedsvc_feed_{field}", help_text, labels=["feed"])
            for s in stats:
                family.add_metric([s.feed], getattr(s, field))
            yield family
        changed = GaugeMetricFamily(
            "feedsvc_feed_last_change_timestamp_seconds",
            "When the feed's data last changed (Unix time).",
            labels=["feed"],
        )
        for s in stats:
            if s.last_change is not None:
                changed.add_metric([s.feed], s.last_change.timestamp())
        yield changed
        yield from self._notify()

    def _notify(self) -> Iterator[Metric]:
        from feedsvc.storage.outbox import TargetCounts

        targets = self.targets()
        if not targets:
            return
        found = {c.target: c for c in self.store.count_messages()}
        rows = [found.get(t, TargetCounts(t)) for t in targets]
        for field, kind, name, help_text in _NOTIFY:
            family = kind(f"feedsvc_notify_{name}", help_text, labels=["target"])
            for c in rows:
                family.add_metric([c.target], getattr(c, field))
            yield family


class Metrics:
    """One app's metrics: its response counter and what a scrape collects."""

    def __init__(self, store: ReadStore, targets: Callable[[], list[str]] = list) -> None:
        self.store = store
        self.targets = targets
        self.multiprocess = bool(os.environ.get(MULTIPROC_DIR))
        # In multiprocess mode the counter's values live in the shared
        # directory and reach a scrape through MultiProcessCollector, so it
        # is registered nowhere (it would be counted twice).
        self.registry = CollectorRegistry()
        self.responses = Counter(
            "feedsvc_http_responses",
            "HTTP responses served, by status class.",
            ["code"],
            registry=None if self.multiprocess else self.registry,
        )
        self.registry.register(StoreCollector(store, targets))

    def count(self, status: int) -> None:
        self.responses.labels(code=f"{status // 100}xx").inc()

    def exposition(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(StoreCollector(self.store, self.targets))
        return generate_latest(registry)


def init_app(app: Flask) -> None:
    """Register /metrics and count every answer. The counting wraps the WSGI
    app rather than hooking after_request: it sees the status line without
    touching Flask's request proxies, which matters on the feed hot path."""
    disable_created_metrics()  # no *_created series beside each counter
    web = app.extensions["feedsvc"]
    metrics = Metrics(web.store, lambda: [t.name for t in web.settings.notify])
    app.extensions["feedsvc_metrics"] = metrics
    inner = app.wsgi_app

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            if environ.get("PATH_INFO") != "/metrics":
                metrics.count(int(status[:3]))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = counted  # type: ignore[method-assign]
    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics() -> Response:
    token = state().settings.service.admin_token
    if token and not is_admin(token):
        return Response(
            "401 Unauthorized: send Authorization: Bearer with [service] admin_token\n",
            status=401,
            content_type="text/plain; charset=utf-8",
            headers={"WWW-Authenticate": 'Bearer realm="feedsvc"', "Cache-Control": "no-store"},
        )
    found: Metrics = current_app.extensions["feedsvc_metrics"]
    return Response(
        found.exposition(), content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"}
    )
