"""Feed documents: /feeds/NAME.atom (paged, RFC 5005), .rss,
/feeds/NAME/revisions.atom, /articles/ID.atom and /feeds.opml.

The hot path of the whole service: a popular feed is polled by thousands of
readers, so a request costs one dictionary lookup, one feed_state read and
the bytes rendered when the feed last changed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Blueprint, Response, abort, request

from feedsvc.config import FeedSettings
from feedsvc.filters import RevisionFilter, parse_filter
from feedsvc.render import (
    Page,
    article_atom,
    cursor,
    feed_atom,
    feed_rss,
    opml,
    parse_cursor,
    revisions_atom,
)
from feedsvc.storage.serials import as_utc
from feedsvc.web import WebState, state
from feedsvc.web.cache import Rendered
from feedsvc.web.responses import send

bp = Blueprint("feeds", __name__)

ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
OPML = "text/x-opml; charset=utf-8"


def _feed(st: WebState, name: str) -> FeedSettings:
    feed = st.feeds.get(name)
    if feed is None:
        abort(404)
    return feed


def _serve(
    st: WebState,
    slot: Hashable,
    feed: str,
    content_type: str,
    render: Callable[[Any], bytes],
    self_url: str,
) -> Response:
    """Answer from the rendering of `slot` as of the feed's latest change;
    `render(changed_at)` makes the bytes when there is none yet. With a
    hub configured, the answer names it and the document's own URL in Link
    headers too: WebSub discovery asks for those, beside the <link>s."""
    serial, changed_at = st.store.serials.read(feed)

    def make() -> Rendered:
        modified = as_utc(changed_at)
        hub = st.settings.service.hub
        link = f'<{hub}>; rel="hub", <{self_url}>; rel="self"' if hub else None
        return Rendered(render(modified), content_type, modified, link=link)

    rendered = st.cache.get(slot, serial, make)
    assert rendered is not None
    return send(rendered, st.settings.service.cache_max_age)


@bp.get("/feeds/<name>.atom")
def atom(name: str) -> Response:
    st = state()
    feed = _feed(st, name)
    before = after = None
    if request.environ.get("QUERY_STRING"):  # parsing args costs; most requests have none
        before = request.args.get("before")
        after = request.args.get("after")
    if before is not None and after is not None:
        abort(400, description="a page is either before= or after= a cursor, not both")

    def render(changed_at: Any) -> bytes:
        links = st.links
        try:
            keyset_before = parse_cursor(before) if before is not None else None
            keyset_after = parse_cursor(after) if after is not None else None
        except ValueError as exc:
            abort(400, description=str(exc))
        views, more = st.store.get_feed_page(
            name, st.settings.service.entries_per_page, before=keyset_before, after=keyset_after
        )
        first = links.feed(name)
        older = newer = None
        if views:
            if more or keyset_after is not None:
                older = links.feed_page(name, before=cursor(views[-1]))
            if keyset_before is not None or (keyset_after is not None and more):
                newer = links.feed_page(name, after=cursor(views[0]))
        elif keyset_before is not None or keyset_after is not None:
            newer = first  # past either end: back to the start
        page = Page(
            self_url=links.feed_page(name, before=before, after=after),
            first=first,
            next=older,
            previous=newer,
        )
        return feed_atom(
            name,
            feed.title,
            views,
            links,
            updated=changed_at,
            page=page,
            hub=st.settings.service.hub,
        )

    self_url = st.links.feed_page(name, before=before, after=after)
    return _serve(st, ("atom", name, before, after), name, ATOM, render, self_url)


@bp.get("/feeds/<name>.rss")
def rss(name: str) -> Response:
    st = state()
    feed = _feed(st, name)
    per_page = st.settings.service.entries_per_page

    def render(changed_at: Any) -> bytes:
        return feed_rss(name, feed.title, st.store.list_feed_entries(name, per_page), st.links)

    return _serve(st, ("rss", name), name, RSS, render, st.links.feed(name, "rss"))


@bp.get("/feeds/<name>/revisions.atom")
def revisions(name: str) -> Response:
    st = state()
    feed = _feed(st, name)
    per_page = st.settings.service.entries_per_page

    flt = RevisionFilter()
    if request.environ.get("QUERY_STRING"):
        try:
            flt = parse_filter(request.args)
        except ValueError as exc:
            abort(400, description=str(exc))

    def render(changed_at: Any) -> bytes:
        views = st.store.list_feed_revisions(name, per_page, flt)
        return revisions_atom(
            name,
            feed.title,
            views,
            st.links,
            updated=changed_at,
            hub=st.settings.service.hub,
            flt=flt,
        )

    self_url = st.links.revisions(name, flt.query)
    return _serve(st, ("revisions", name, flt.query), name, ATOM, render, self_url)


@bp.get("/articles/<aid>.atom")
def article(aid: str) -> Response:
    st = state()
    row = st.store.get_article(aid)  # NotFound -> 404

    def render(changed_at: Any) -> bytes:
        return article_atom(
            row, st.store.get_versions(aid, full=True), st.links, hub=st.settings.service.hub
        )

    # Tied to the feed's serial: any change in the feed may be this article's.
    return _serve(st, ("article", aid), row.feed, ATOM, render, st.links.article_feed(aid))


@bp.get("/feeds.opml")
def feeds_opml() -> Response:
    st = state()
    feeds = [(f.name, f.title) for f in st.settings.feeds]
    # Only the config decides this document, and it cannot change while the
    # process runs, so one rendering serves until restart.
    rendered = st.cache.get(("opml",), 0, lambda: Rendered(opml(feeds, st.links), OPML, None))
    assert rendered is not None
    return send(rendered, st.settings.service.cache_max_age)
