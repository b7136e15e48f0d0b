"""/healthz: liveness with a database check and every source's state."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from feedsvc.web import state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    st = state()
    try:
        st.store.ping()
        rows = st.store.sources()
    except Exception as exc:  # the database is down: say so, do not crash
        return jsonify(status="error", database=f"unreachable: {type(exc).__name__}"), 503
    failing = [r for r in rows if r.active and (r.failures or r.gone)]
    return jsonify(
        status="ok",
        database="ok",
        sources=len([r for r in rows if r.active]),
        failing=[
            {
                "feed": r.feed,
                "source": r.locator,
                "failures": r.failures,
                "gone": r.gone,
                "last_error": r.last_error,
                "next_poll_at": r.next_poll_at.isoformat(),
            }
            for r in failing
        ],
    ), 200
