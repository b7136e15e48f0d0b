"""/search (HTML) and /api/search (JSON): articles whose text, current or
removed, matches a query (storage/search.py), and the template helpers that
show a revision's stealth and its number, quote and name changes.

A query the search cannot run is a 400 naming why, never a 500.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request

from feedsvc import keyset
from feedsvc.changes import find_changes, summary_lines
from feedsvc.export import iso
from feedsvc.models import VersionRow
from feedsvc.storage.search import SearchHit, SearchQueryError
from feedsvc.textdiff import TextDiff
from feedsvc.web import params, state
from feedsvc.web.openapi import MAX_LIMIT
from feedsvc.web.responses import cached

bp = Blueprint("search", __name__)

PER_PAGE = 20


@bp.app_template_global("revision_changes")
def revision_changes(old: VersionRow, new: VersionRow, d: TextDiff | None = None) -> list[str]:
    """Lines about a revision's substance for a page: "Stealth edit ...",
    "Numbers: 12 -> 15 (people were killed)", "Quotes: ...", names."""
    changes = find_changes(old.title, old.text, new.title, new.text, d)
    return summary_lines(changes, new.stealth and new.number == old.number + 1)


def _hits(limit: int) -> tuple[str, str | None, list[SearchHit], str | None]:
    """(query, feed, hits, next cursor) from the request, or a 400."""
    st = state()
    q = request.args.get("q", "")
    feed = request.args.get("feed") or None
    if feed is not None and feed not in st.settings.feeds_by_name:
        abort(400, description=f"feed: no feed named {feed[:64]!r}")
    raw_cursor = request.args.get("cursor")
    after = params.cursor("cursor", raw_cursor) if raw_cursor else None
    try:
        hits = st.store.search(q, feed=feed, after=after, limit=limit + 1)
    except SearchQueryError as exc:
        abort(400, description=f"q: {exc}")
    more = len(hits) > limit
    hits = hits[:limit]
    next_cursor = keyset.encode(hits[-1].updated_at, hits[-1].article_id) if more else None
    return q, feed, hits, next_cursor


def _limit() -> int:
    return params.whole("limit", request.args.get("limit", str(PER_PAGE)), 1, MAX_LIMIT)


def _next_query(q: str, feed: str | None, cursor: str | None, limit: int) -> str | None:
    if cursor is None:
        return None
    params = {"q": q, **({"feed": feed} if feed else {}), "cursor": cursor}
    if limit != PER_PAGE:
        params["limit"] = str(limit)
    return urlencode(params)


def hit_json(hit: SearchHit) -> dict[str, Any]:
    links = state().links
    removed = links.diff(hit.article_id, hit.last_seen, hit.removed_in) if hit.removed_in else None
    return {
        "article_id": hit.article_id,
        "feed": hit.feed,
        "title": hit.title,
        "url": hit.url,
        "updated_at": iso(hit.updated_at),
        "current": hit.current,
        "latest_version": hit.latest,
        "last_seen": hit.last_seen,
        "removed_in": hit.removed_in,
        "snippet": hit.snippet,
        "links": {
            "article": links.article(hit.article_id),
            "version": links.version(hit.article_id, hit.last_seen),
            "removed": removed,
        },
    }


@bp.get("/search")
@cached()
def search_page() -> str:
    st = state()
    q = request.args.get("q", "")
    limit = _limit()
    hits: list[SearchHit] = []
    feed = None
    more = None
    if q.strip():
        q, feed, hits, cursor = _hits(limit)
        more = _next_query(q, feed, cursor, limit)
    return render_template(
        "search.html",
        q=q,
        feed=feed,
        feeds=st.settings.feeds,
        hits=hits,
        next_url=st.links.search(more) if more else None,
        links=st.links,
    )


@bp.get("/api/search")
@cached()
def search_api() -> Response:
    st = state()
    if "q" not in request.args:
        abort(400, description="q: a query is required")
    limit = _limit()
    q, feed, hits, cursor = _hits(limit)
    more = _next_query(q, feed, cursor, limit)
    body = {
        "query": q,
        "hits": [hit_json(h) for h in hits],
        "next_cursor": cursor,
        "next": f"{st.links.base_url}/api/search?{more}" if more else None,
    }
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(data, mimetype="application/json")
