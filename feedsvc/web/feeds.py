"""Feed documents: /feeds/NAME.atom."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from feedsvc.render import feed_atom
from feedsvc.web import state
from feedsvc.web.responses import send

bp = Blueprint("feeds", __name__)

ATOM = "application/atom+xml"


@bp.get("/feeds/<name>.atom")
def atom(name: str) -> Response:
    st = state()
    try:
        feed = st.settings.feed(name)
    except KeyError:
        abort(404)
    serial, changed_at = st.store.feed_serial(name)
    per_page = st.settings.service.entries_per_page

    def render() -> bytes:
        views = st.store.feed_entries(name, per_page)
        return feed_atom(name, feed.title, views, st.links, updated=changed_at)

    rendered = st.cache.get(("atom", name, serial), render, ATOM, changed_at)
    return send(rendered, st.settings.service.cache_max_age)
