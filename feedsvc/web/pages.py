"""HTML pages: the index, an article's timeline, a version, a diff."""

from __future__ import annotations

import difflib

from flask import Blueprint, Response, abort, render_template

from feedsvc.web import state
from feedsvc.web.responses import cached

bp = Blueprint("pages", __name__)


@bp.get("/")
@cached()
def index() -> str:
    st = state()
    feeds = []
    for feed in st.settings.feeds:
        feeds.append((feed, st.store.feed_entries(feed.name, 10)))
    return render_template("index.html", feeds=feeds, links=st.links)


@bp.get("/articles/<aid>")
@cached()
def article(aid: str) -> str:
    st = state()
    view = st.store.entry_view(aid)
    return render_template("article.html", view=view, links=st.links, events=st.store.events(aid))


@bp.get("/articles/<aid>/versions/<int:number>")
@cached()
def version(aid: str, number: int) -> str:
    st = state()
    return render_template(
        "version.html",
        article=st.store.article(aid),
        version=st.store.version(aid, number),
        links=st.links,
    )


@bp.get("/articles/<aid>/versions/<int:number>.txt")
@cached()
def version_text(aid: str, number: int) -> Response:
    v = state().store.version(aid, number)
    return Response(f"{v.title}\n\n{v.text}\n", content_type="text/plain; charset=utf-8")


@bp.get("/articles/<aid>/diff/<int:a>...<int:b>")
@cached()
def diff(aid: str, a: int, b: int) -> str:
    st = state()
    if a == b:
        abort(400, description="a diff needs two different versions")
    old, new = st.store.version(aid, a), st.store.version(aid, b)
    lines = difflib.unified_diff(
        old.text.split("\n\n"), new.text.split("\n\n"), f"version {a}", f"version {b}", lineterm=""
    )
    return render_template(
        "diff.html",
        article=st.store.article(aid),
        old=old,
        new=new,
        lines=list(lines),
        links=st.links,
    )
