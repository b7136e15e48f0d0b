"""HTML pages and plain formats for people reading revisions: the index, an
article's timeline, one version as it was, a diff between two versions.

Every page is rendered once per change of the data (responses.cached) and
answers conditional requests. Article HTML goes through
text.sanitize_html on its way to the page, whatever the store holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import RequestRedirect

from feedsvc import diffformat, history, textdiff
from feedsvc.errors import NotFound
from feedsvc.models import ArticleRow, EntryView, RevisionView, VersionRow
from feedsvc.text import sanitize_html, web_url
from feedsvc.web import params, state
from feedsvc.web.responses import cached

bp = Blueprint("pages", __name__)

# How many articles per feed the index looks at; the latest revisions across
# all feeds are among the latest revisions of these.
INDEX_ARTICLES = 20
INDEX_REVISIONS = 20


@dataclass(frozen=True)
class Step:
    """One version on an article's timeline, with the diff that led to it."""

    version: VersionRow
    previous: VersionRow | None
    diff: textdiff.TextDiff | None


def feed_links(feed: str | None = None, article: str | None = None) -> list[tuple[str, str]]:
    """(title, URL) of the Atom documents a page is about, for
    <link rel="alternate"> discovery: only the ones this app serves."""
    st = state()
    links = st.links
    candidates: list[tuple[str, str]] = []
    if article is not None:
        candidates.append(("This article's versions", links.article_feed(article)))
    names = [feed] if feed else [f.name for f in st.settings.feeds]
    for name in names:
        title = st.settings.feed(name).title
        candidates.append((title, links.feed(name)))
        candidates.append((f"{title}: every revision", links.revisions(name)))
    return [(title, url) for title, url in candidates if _served(url)]


def _served(url: str) -> bool:
    """Does a GET of this URL (under base_url) reach one of our views?"""
    base = state().settings.service.base_url
    if not url.startswith(base):
        return False
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(url[len(base) :] or "/", method="GET")
    except RequestRedirect:
        return True
    except (RouteNotFound, MethodNotAllowed):
        return False
    # /articles/ID.atom falls through to the article page when no feed view
    # claims it: a page is never a feed.
    return not str(endpoint).startswith("pages.")


@bp.app_template_global("diff_paragraph")
def _diff_paragraph(p: textdiff.ParagraphDiff) -> str:
    return diffformat.paragraph_html(p)


@bp.app_template_global("diff_title")
def _diff_title(d: textdiff.TextDiff) -> str:
    return diffformat.title_html(d)


@bp.app_template_filter("when")
def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("web_url")
def _web_url(value: str | None) -> str | None:
    return web_url(value)


@bp.app_template_filter("safe_html")
def _safe_html(value: str) -> str:
    return sanitize_html(value)


@bp.get("/")
@cached()
def index() -> str:
    st = state()
    feeds = [(f, st.store.list_feed_entries(f.name, INDEX_ARTICLES)) for f in st.settings.feeds]
    views = [view for _, feed_views in feeds for view in feed_views]
    developing = sorted(
        (v for v in views if v.article.developing), key=lambda v: v.latest.seen_at, reverse=True
    )
    return render_template(
        "index.html",
        feeds=feeds,
        developing=developing,
        revisions=_latest_revisions(views),
        links=st.links,
        feed_links=feed_links(),
        titles={f.name: f.title for f in st.settings.feeds},
    )


def _latest_revisions(views: Sequence[EntryView]) -> list[RevisionView]:
    found = [
        RevisionView(view.article, v, previous)
        for view in views
        for previous, v in history.revisions(view.history)
    ]
    found.sort(key=lambda r: r.version.seen_at, reverse=True)
    return found[:INDEX_REVISIONS]


@bp.get("/articles/<aid>")
@cached()
def article(aid: str) -> str:
    st = state()
    row = st.store.get_article(aid)
    versions = st.store.get_versions(aid, full=True)
    latest = history.latest(versions)
    if latest is None:  # nothing published yet: only suspect versions, or none
        raise NotFound(f"no article {aid!r}")
    return render_template(
        "article.html",
        article=row,
        latest=latest,
        steps=list(reversed(_timeline(versions))),
        events=st.store.list_events(aid),
        feed=st.settings.feeds_by_name.get(row.feed),  # None: no longer configured
        links=st.links,
        feed_links=_article_feed_links(row),
    )


def _article_feed_links(row: ArticleRow) -> list[tuple[str, str]]:
    configured = row.feed in state().settings.feeds_by_name
    return feed_links(row.feed if configured else None, row.id)


def _timeline(versions: Sequence[VersionRow]) -> list[Step]:
    """Every version, oldest first; a published one with the diff from the
    published one before it, a suspect one (kept as evidence) alone: its
    title is nobody's headline and it is no version's predecessor."""
    before = {v.number: previous for previous, v in history.revisions(versions)}
    steps = []
    for v in versions:
        previous = before.get(v.number)
        d = None
        if previous is not None:
            d = textdiff.diff_texts(previous.title, previous.text, v.title, v.text)
        steps.append(Step(v, previous, d))
    return steps


@bp.get("/articles/<aid>/versions/<number:number>")
@cached()
def version(aid: str, number: int) -> str:
    st = state()
    row = st.store.get_article(aid)
    return render_template(
        "version.html",
        article=row,
        version=st.store.get_version(aid, number),
        latest_number=row.latest_version,
        links=st.links,
        feed_links=_article_feed_links(row),
    )


@bp.get("/articles/<aid>/versions/<number:number>.txt")
@cached()
def version_text(aid: str, number: int) -> Response:
    v = state().store.get_version(aid, number)
    return Response(f"{v.title}\n\n{v.text}\n", content_type="text/plain; charset=utf-8")


@bp.get("/articles/<aid>/diff/<spec>")
@cached()
def diff_page(aid: str, spec: str) -> str | Response:
    st = state()
    row = st.store.get_article(aid)
    a, b, as_text = params.version_range(spec)
    old, new = st.store.get_version(aid, a), st.store.get_version(aid, b)
    if as_text:
        body = diffformat.unified(
            old.title, old.text, new.title, new.text, f"version {a}", f"version {b}"
        )
        return Response(body, content_type="text/x-diff; charset=utf-8")
    view = "side" if request.args.get("view") == "side" else "inline"
    d = textdiff.diff_texts(old.title, old.text, new.title, new.text)
    return render_template(
        "diff.html",
        article=row,
        old=old,
        new=new,
        diff=d,
        view=view,
        rows=[
            (p.kind, left, right)
            for p, (left, right) in zip(d.paragraphs, diffformat.side_by_side(d), strict=True)
        ]
        if view == "side"
        else [],
        links=st.links,
        feed_links=_article_feed_links(row),
    )
