"""/stats, /api/stats and the charts: how each feed's articles are edited.

The figures are folded from one streamed pass over the versions' facts
(feedsvc.stats), once per change of the data: the page, the JSON and each
chart are served from the render cache with ETags like every other page.
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from feedsvc.errors import NotFound
from feedsvc.stats import CLASSES, DELAY_BUCKETS, REVISION_BUCKETS, Stats, as_json, compute
from feedsvc.stats import summary_rows as summary
from feedsvc.web import params, state
from feedsvc.web.charts import CHARTS
from feedsvc.web.responses import cached

bp = Blueprint("stats", __name__)


def _window() -> tuple[list[str], datetime | None]:
    """The feeds (?feed=NAME, else all) and the window (?since=DATE) asked for."""
    st = state()
    names = [f.name for f in st.settings.feeds]
    feed = request.args.get("feed")
    if feed is not None:
        if feed not in names:
            raise NotFound(f"no feed named {feed!r}")
        names = [feed]
    raw = request.args.get("since")
    since = params.when("since", raw) if raw is not None else None  # bounded, or a 400
    return names, since


def _stats() -> Stats:
    names, since = _window()
    return compute(state().store.iter_article_facts(), names, since)


def _query() -> str:
    args = {k: request.args[k] for k in ("feed", "since") if k in request.args}
    return f"?{urlencode(args)}" if args else ""


@bp.get("/stats")
@cached()
def page() -> str:
    st = state()
    stats = _stats()
    base = f"{st.links.base_url}/stats"
    return render_template(
        "stats.html",
        stats=stats,
        summary=summary(stats),
        titles={f.name: f.title for f in st.settings.feeds},
        charts=[(f"{base}/charts/{name}.svg{_query()}", alt) for name, (alt, _) in CHARTS.items()],
        breakdowns=_breakdowns(stats),
        feed=request.args.get("feed"),
        since=request.args.get("since", ""),
        links=st.links,
    )


def _breakdowns(stats: Stats) -> list[tuple[str, str, list[str], list[dict[str, int]]]]:
    """The page's distribution tables: (heading, first column, row labels,
    one {label: count} per column, all feeds first)."""
    columns = [stats.total, *stats.feeds]
    return [
        (
            "Change classes",
            "Class",
            list(CLASSES),
            [{name: f.classes.get(name, 0) for name in CLASSES} for f in columns],
        ),
        (
            "Time to first revision",
            "After",
            [label for label, _, _ in DELAY_BUCKETS],
            [f.delay_distribution() for f in columns],
        ),
        (
            "Revisions per article",
            "Revisions",
            [label for label, _, _ in REVISION_BUCKETS],
            [f.revisions_per_article() for f in columns],
        ),
    ]


@bp.get("/stats/charts/<name>.svg")
@cached()
def chart(name: str) -> Response:
    if name not in CHARTS:
        raise NotFound(f"no chart named {name!r}")
    _, draw = CHARTS[name]
    return Response(draw(_stats()), mimetype="image/svg+xml")


@bp.get("/api/stats")
@cached()
def api() -> Response:
    st = state()
    data = as_json(_stats(), {f.name: f.title for f in st.settings.feeds})
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, mimetype="application/json")
