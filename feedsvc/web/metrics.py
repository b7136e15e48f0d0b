"""/metrics: Prometheus text exposition (format 0.0.4).

Web nodes are stateless, so the figures come from the database (what every
node agrees on) plus this process's own request counters.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, Response

from feedsvc import __version__
from feedsvc.web import state

bp = Blueprint("metrics", __name__)

_FEED_GAUGES = (
    ("sources", "Active sources configured for the feed."),
    ("failing", "Sources whose last poll failed."),
    ("gone", "Sources stopped because the upstream answered 410 Gone."),
    ("articles", "Articles with at least one version."),
    ("developing", "Articles whose latest version carries a developing marker."),
    ("versions", "Stored versions, all articles."),
    ("suspect", "Versions held out of the feed as probable extraction failures."),
)


class RequestCounter:
    """Responses served by this process, by status class."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, status: int) -> None:
        with self._lock:
            self.counts[f"{status // 100}xx"] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


def init_app(app: Flask) -> None:
    """Register /metrics and count every answer. The counting wraps the WSGI
    app rather than hooking after_request: it sees the status line without
    touching Flask's request proxies, which matters on the feed hot path."""
    counter = RequestCounter()
    app.extensions["feedsvc_requests"] = counter
    inner = app.wsgi_app

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            if environ.get("PATH_INFO") != "/metrics":
                counter.add(int(status[:3]))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = counted  # type: ignore[method-assign]
    app.register_blueprint(bp)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> str:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)
    return "\n".join(lines)


@bp.get("/metrics")
def metrics() -> Response:
    from flask import current_app

    st = state()
    stats = st.store.get_feed_stats()
    families = [
        _family(
            "feedsvc_info",
            "gauge",
            "feedsvc version.",
            [(f'{{version="{_label(__version__)}"}}', 1)],
        ),
    ]
    for field, help_text in _FEED_GAUGES:
        families.append(
            _family(
                f"feedsvc_feed_{field}",
                "gauge",
                help_text,
                [(f'{{feed="{_label(s.feed)}"}}', getattr(s, field)) for s in stats],
            )
        )
    families.append(
        _family(
            "feedsvc_feed_last_change_timestamp_seconds",
            "gauge",
            "When the feed's data last changed (Unix time).",
            [
                (f'{{feed="{_label(s.feed)}"}}', s.last_change.timestamp())
                for s in stats
                if s.last_change is not None
            ],
        )
    )
    if st.settings.notify:
        families.extend(_notify_families(st.store, [t.name for t in st.settings.notify]))
    counter: RequestCounter = current_app.extensions["feedsvc_requests"]
    families.append(
        _family(
            "feedsvc_http_responses_total",
            "counter",
            "HTTP responses served by this process.",
            [(f'{{code="{code}"}}', n) for code, n in sorted(counter.snapshot().items())],
        )
    )
    body = "\n".join(families) + "\n"
    return Response(
        body,
        content_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


def _notify_families(store: Any, targets: list[str]) -> list[str]:
    """Notification messages by target, from the outbox (every node agrees)."""
    from feedsvc.storage.outbox import TargetCounts

    found = {c.target: c for c in store.count_messages()}
    rows = [found.get(t, TargetCounts(t)) for t in targets]
    out = []
    for field, kind, name, help_text in (
        ("delivered", "counter", "delivered_total", "Notification messages delivered."),
        ("retried", "counter", "retries_total", "Notification sends that failed and were retried."),
        (
            "failed",
            "counter",
            "failed_total",
            "Notification messages given up after give_up_after.",
        ),
        ("pending", "gauge", "pending", "Notification messages waiting to be sent."),
    ):
        out.append(
            _family(
                f"feedsvc_notify_{name}",
                kind,
                help_text,
                [(f'{{target="{_label(c.target)}"}}', getattr(c, field)) for c in rows],
            )
        )
    return out
