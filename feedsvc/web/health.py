"""/healthz: liveness with a database check and every source's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify

from feedsvc import redact
from feedsvc.models import SourceRow
from feedsvc.storage import ReadStore
from feedsvc.web import state
from feedsvc.web.security import is_admin

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    st = state()
    try:
        st.store.ping()
        rows = st.store.list_sources()
    except Exception as exc:  # the database is down: say so, do not crash
        return jsonify(status="error", database=f"unreachable: {type(exc).__name__}"), 503
    token = st.settings.service.admin_token
    if token and not is_admin(token):
        # Alive and connected, nothing more: the details name sources.
        return jsonify(status="ok", database="ok"), 200
    failing = [r for r in rows if r.active and (r.failures or r.gone)]
    # Polled fine but not whole: new articles held back by the per-poll
    # cap, oversized entries skipped, a malformed feed read leniently.
    warnings = [r for r in rows if r.active and not r.failures and r.last_error]
    body: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "sources": len([r for r in rows if r.active]),
        "failing": [_failing(r) for r in failing],
        "warnings": [
            {"feed": r.feed, "source": redact.url(r.locator), "warning": _text(r.last_error)}
            for r in warnings
        ],
    }
    # Article pages followed on their own (developing stories, articles
    # that left their feed) whose checks keep failing.
    body["pages_failing"] = [
        {
            "feed": a["feed"],
            "article": a["id"],
            "url": _url(a["url"]),
            "failures": a["check_failures"],
            "last_error": _text(a["last_error"]),
            "next_check_at": _iso(a["next_check_at"]),
        }
        for a in st.store.list_failing_articles()
    ]
    if st.settings.notify:
        body["notify_failing"] = [
            {
                **n,
                "last_attempt_at": _iso(n["last_attempt_at"]),
                "next_attempt_at": _iso(n["next_attempt_at"]),
            }
            for n in st.store.list_failing_channels()
        ]
    if st.settings.service.hub:
        body["hub_failing"] = _hub_failing(st.store, [f.name for f in st.settings.feeds])
    return jsonify(body), 200


def _hub_failing(store: ReadStore, feeds: list[str]) -> list[dict[str, Any]]:
    """Feeds whose WebSub ping keeps failing, and when it is tried next."""
    out = []
    for feed in feeds:
        _, failures, after, error = store.get_ping_state(feed)
        if failures:
            out.append(
                {
                    "feed": feed,
                    "failures": failures,
                    "last_error": _text(error),
                    "retry_at": _iso(after),
                }
            )
    return out


def _failing(r: SourceRow) -> dict[str, Any]:
    """A source in trouble: what went wrong, how often in a row, when it is
    tried next (never, once the upstream said 410 Gone)."""
    return {
        "feed": r.feed,
        "source": redact.url(r.locator),
        "url": redact.url(r.url),
        "failures": r.failures,
        "gone": r.gone,
        "last_error": _text(r.last_error),
        "last_error_at": _iso(r.last_error_at),
        "last_success_at": _iso(r.last_success_at),
        "next_poll_at": None if r.gone else _iso(r.next_poll_at),
    }


def _url(value: str | None) -> str | None:
    return None if value is None else redact.url(value)


def _text(value: str | None) -> str | None:
    """An error message as shown: URLs in it masked (redact.py)."""
    return None if value is None else redact.text(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
