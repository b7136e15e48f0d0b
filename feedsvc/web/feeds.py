"""Feed documents: /feeds/NAME.atom, .rss, /feeds/NAME/revisions.atom,
/articles/ID.atom and /feeds.opml."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from feedsvc.config import FeedSettings
from feedsvc.render import article_atom, feed_atom, feed_rss, opml, revisions_atom
from feedsvc.web import state
from feedsvc.web.responses import send

bp = Blueprint("feeds", __name__)

ATOM = "application/atom+xml"
RSS = "application/rss+xml"
OPML = "text/x-opml"


def _feed(name: str) -> FeedSettings:
    try:
        return state().settings.feed(name)
    except KeyError:
        abort(404)


@bp.get("/feeds/<name>.atom")
def atom(name: str) -> Response:
    st = state()
    feed = _feed(name)
    serial, changed_at = st.store.feed_serial(name)
    per_page = st.settings.service.entries_per_page

    def render() -> bytes:
        views = st.store.feed_entries(name, per_page)
        return feed_atom(name, feed.title, views, st.links, updated=changed_at)

    rendered = st.cache.get(("atom", name, serial), render, ATOM, changed_at)
    return send(rendered, st.settings.service.cache_max_age)


@bp.get("/feeds/<name>.rss")
def rss(name: str) -> Response:
    st = state()
    feed = _feed(name)
    serial, changed_at = st.store.feed_serial(name)
    per_page = st.settings.service.entries_per_page

    def render() -> bytes:
        return feed_rss(name, feed.title, st.store.feed_entries(name, per_page), st.links)

    rendered = st.cache.get(("rss", name, serial), render, RSS, changed_at)
    return send(rendered, st.settings.service.cache_max_age)


@bp.get("/feeds/<name>/revisions.atom")
def revisions(name: str) -> Response:
    st = state()
    feed = _feed(name)
    serial, changed_at = st.store.feed_serial(name)
    per_page = st.settings.service.entries_per_page

    def render() -> bytes:
        views = st.store.feed_revisions(name, per_page)
        return revisions_atom(name, feed.title, views, st.links, updated=changed_at)

    rendered = st.cache.get(("revisions", name, serial), render, ATOM, changed_at)
    return send(rendered, st.settings.service.cache_max_age)


@bp.get("/articles/<aid>.atom")
def article(aid: str) -> Response:
    st = state()
    row = st.store.article(aid)  # NotFound -> 404
    serial, _ = st.store.feed_serial(row.feed)

    def render() -> bytes:
        return article_atom(row, st.store.versions(aid, full=True), st.links)

    # Keyed by the feed's serial: any change in the feed may be this article's.
    rendered = st.cache.get(("article", aid, serial), render, ATOM, row.updated_at)
    return send(rendered, st.settings.service.cache_max_age)


@bp.get("/feeds.opml")
def feeds_opml() -> Response:
    st = state()
    feeds = [(f.name, f.title) for f in st.settings.feeds]
    # Only the config decides this document, and it cannot change while the
    # process runs, so one rendering serves until restart.
    rendered = st.cache.get(("opml",), lambda: opml(feeds, st.links), OPML, None)
    return send(rendered, st.settings.service.cache_max_age)
