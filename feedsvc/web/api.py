"""The JSON API under /api/: the same data as the pages and feeds, for
scripts. Described by the OpenAPI document at /api/openapi.json (openapi.py);
tests check every response against it. Errors are JSON too:
{"error": "...", "status": 400}."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, request

from feedsvc import history
from feedsvc.changes import Changes, find_changes
from feedsvc.config import FeedSettings
from feedsvc.diff import diff_texts
from feedsvc.errors import NotFound
from feedsvc.export import export_lines, iso, parse_since
from feedsvc.filters import parse_filter
from feedsvc.jsonviews import article_json, version_json
from feedsvc.models import ArticleRow, ArticleSummary, VersionRow
from feedsvc.warc import CONTENT_TYPE as WARC_CONTENT_TYPE
from feedsvc.warc import warc_chunks, warcinfo_fields
from feedsvc.web import state
from feedsvc.web.cache import Rendered
from feedsvc.web.openapi import MAX_INT, MAX_LIMIT, document
from feedsvc.web.responses import send

bp = Blueprint("api", __name__, url_prefix="/api")

JSON = "application/json"
NDJSON = "application/x-ndjson"
DEFAULT_LIMIT = 50


def _send_json(data: Any, last_modified: datetime | None = None) -> Response:
    """A JSON answer with an ETag of its bytes, so clients can revalidate."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return send(Rendered(body, JSON, last_modified))


def _feed(name: str) -> FeedSettings:
    try:
        return state().settings.feed(name)
    except KeyError:
        raise NotFound(f"no feed named {name!r}") from None


def _api(path: str) -> str:
    return f"{state().links.base_url}/api{path}"


# -- query parameters ----------------------------------------------------------


def _whole(name: str, raw: str, low: int = 1, high: int = MAX_INT) -> int:
    """A whole number from a URL, or a 400 naming the parameter. The upper
    bound keeps absurd numbers away from the database's integer columns."""
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        abort(400, description=f"{name}: expected a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def _int_arg(name: str, default: int, low: int = 1, high: int = MAX_INT) -> int:
    raw = request.args.get(name)
    return default if raw is None else _whole(name, raw, low, high)


def _since_arg() -> datetime | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        return parse_since(raw)
    except ValueError as exc:
        abort(400, description=f"since: {exc}")


def _encode_cursor(summary: ArticleSummary) -> str:
    raw = f"{summary.article.updated_at.isoformat()}|{summary.article.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(value: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        updated, _, aid = raw.partition("|")
        when = datetime.fromisoformat(updated)
        if not aid or when.tzinfo is None:
            raise ValueError
        return when, aid
    except (ValueError, binascii.Error, UnicodeDecodeError):
        abort(400, description="cursor: not a cursor this API gave out")


# -- JSON shapes (schemas in openapi.py) ---------------------------------------


def _feed_json(feed: FeedSettings, changed_at: datetime | None) -> dict[str, Any]:
    st = state()
    return {
        "name": feed.name,
        "title": feed.title,
        "articles": st.store.count_articles(feed.name),
        "changed_at": iso(changed_at),
        "links": {
            "articles": _api(f"/feeds/{feed.name}/articles"),
            "atom": st.links.feed(feed.name),
            "rss": st.links.feed(feed.name, "rss"),
            "revisions": st.links.revisions(feed.name),
        },
    }


def _article_json(a: ArticleRow, title: str) -> dict[str, Any]:
    return article_json(a, title, state().links)


def _version_json(v: VersionRow, *, full: bool = False) -> dict[str, Any]:
    return version_json(v, state().links, full=full)


# -- endpoints -----------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    return _send_json(document(state().links.base_url))


@bp.get("/feeds")
def feeds() -> Response:
    st = state()
    changes = {f.name: st.store.get_feed_serial(f.name)[1] for f in st.settings.feeds}
    listed = [_feed_json(f, changes[f.name]) for f in st.settings.feeds]
    return _send_json({"feeds": listed}, max((c for c in changes.values() if c), default=None))


@bp.get("/feeds/<name>/articles")
def articles(name: str) -> Response:
    st = state()
    _feed(name)
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    since = _since_arg()
    cursor = request.args.get("cursor")
    after = _decode_cursor(cursor) if cursor else None  # an empty cursor: the first page
    # One more than asked tells whether there is a next page.
    page = st.store.list_article_summaries(name, limit + 1, since=since, after=after)
    more, page = len(page) > limit, page[:limit]
    next_cursor = _encode_cursor(page[-1]) if more else None
    next_url = None
    if next_cursor is not None:
        params = {"limit": str(limit), "cursor": next_cursor}
        if "since" in request.args:
            params["since"] = request.args["since"]
        next_url = _api(f"/feeds/{name}/articles?{urlencode(params)}")
    _, changed_at = st.store.get_feed_serial(name)
    return _send_json(
        {
            "feed": name,
            "articles": [_article_json(s.article, s.title) for s in page],
            "next_cursor": next_cursor,
            "next": next_url,
        },
        changed_at,
    )


@bp.get("/articles/<aid>")
def article(aid: str) -> Response:
    st = state()
    row = st.store.get_article(aid)  # NotFound -> 404
    versions = st.store.get_versions(aid)
    body = _article_json(row, history.latest_title(versions))
    body["versions"] = [_version_json(v) for v in versions]
    body["events"] = [
        {"at": iso(at), "kind": kind, "detail": detail}
        for at, kind, detail in st.store.list_events(aid)
    ]
    return _send_json(body, row.updated_at)


@bp.get("/articles/<aid>/versions/<number>")
def version(aid: str, number: str) -> Response:
    st = state()
    row = st.store.get_article(aid)
    v = st.store.get_version(row.id, _whole("version", number))  # NotFound -> 404
    return _send_json({"article_id": row.id, **_version_json(v, full=True)}, v.seen_at)


@bp.get("/articles/<aid>/diff")
def diff(aid: str) -> Response:
    st = state()
    st.store.get_article(aid)  # NotFound -> 404
    to_arg, from_arg = request.args.get("to"), request.args.get("from")
    to_n = _whole("to", to_arg) if to_arg is not None else None
    from_n = _whole("from", from_arg) if from_arg is not None else None
    try:
        from_n, to_n = history.diff_range(st.store.get_versions(aid), from_n, to_n)
    except history.BadRange as exc:
        abort(400, description=f"article {aid}: {exc}")
    old, new = st.store.get_version(aid, from_n), st.store.get_version(aid, to_n)
    d = diff_texts(old.title, old.text, new.title, new.text)
    return _send_json(
        {
            "article_id": aid,
            "from": _version_json(old),
            "to": _version_json(new),
            "diff": d.to_dict(),
            "changes": find_changes(old.title, old.text, new.title, new.text, d).to_dict(),
            "links": {
                "html": st.links.diff(aid, from_n, to_n),
                "unified": st.links.diff(aid, from_n, to_n, ".diff"),
            },
        },
        max(old.seen_at, new.seen_at),
    )


@bp.get("/feeds/<name>/revisions")
def revisions(name: str) -> Response:
    """The revisions feed as JSON, with the same filters (feedsvc.filters)."""
    st = state()
    _feed(name)
    try:
        flt = parse_filter(request.args)
    except ValueError as exc:
        abort(400, description=str(exc))
    limit = _int_arg("limit", DEFAULT_LIMIT, high=MAX_LIMIT)
    views = st.store.list_feed_revisions(name, limit, flt)
    out = []
    for view in views:
        v, p = view.version, view.previous
        item = {"article_id": v.article_id, **_version_json(v)}
        item["previous"] = p.number if p is not None else None
        changes = find_changes(p.title, p.text, v.title, v.text) if p is not None else Changes()
        item["changes"] = changes.to_dict()
        out.append(item)
    changed_at = st.store.get_feed_serial(name)[1]
    atom = st.links.revisions(name, flt.query)
    return _send_json(
        {"feed": name, "filter": flt.query, "atom": atom, "revisions": out}, changed_at
    )


@bp.get("/export")
def export() -> Response:
    st = state()
    name = request.args.get("feed")
    if name is not None:
        _feed(name)
    since = _since_arg()
    fmt = request.args.get("format", "jsonl")
    if fmt == "warc":
        return _export_warc(name, since)
    if fmt != "jsonl":
        abort(400, description=f"format={fmt!r}: use jsonl (the default) or warc")
    # A generator body: Flask sends each line as the database yields it.
    lines = (line.encode() for line in export_lines(st.store, feed=name, since=since))
    return Response(lines, mimetype=NDJSON)


def _export_warc(feed: str | None, since: datetime | None) -> Response:
    """The same evidence as `feedsvc export --warc`, streamed."""
    items = state().store.iter_evidence(feed=feed, since=since)
    filename = f"feedsvc-{feed or 'all'}.warc.gz"
    chunks = warc_chunks(items, filename=filename, info=warcinfo_fields(feed, since))
    response = Response(chunks, mimetype=WARC_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
