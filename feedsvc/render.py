"""The only feedgen importer: Atom and RSS bytes from stored articles.

Every date is set explicitly (feedgen defaults `updated` to now, which would
change the bytes on every render) and ids never contain base_url, so they
survive a move of the service.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedEntry, FeedGenerator
from lxml import etree

from feedsvc import __version__
from feedsvc.models import ArticleRow, EntryView, VersionRow

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG = "tag:feedsvc,2026:"  # RFC 4151; fixed forever, whatever base_url is
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def entry_id(article_id: str) -> str:
    return f"{TAG}article:{article_id}"


def revision_id(article_id: str, number: int) -> str:
    return f"{TAG}article:{article_id}:v{number}"


def feed_id(name: str) -> str:
    return f"{TAG}feed:{name}"


def whole_seconds(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Links:
    """Every URL feedsvc publishes, from base_url."""

    base_url: str

    def feed(self, name: str, ext: str = "atom") -> str:
        return f"{self.base_url}/feeds/{name}.{ext}"

    def revisions(self, name: str) -> str:
        return f"{self.base_url}/feeds/{name}/revisions.atom"

    def article(self, aid: str) -> str:
        return f"{self.base_url}/articles/{aid}"

    def article_feed(self, aid: str) -> str:
        return f"{self.base_url}/articles/{aid}.atom"

    def version(self, aid: str, number: int, ext: str = "") -> str:
        return f"{self.base_url}/articles/{aid}/versions/{number}{ext}"

    def diff(self, aid: str, a: int, b: int, ext: str = "") -> str:
        return f"{self.base_url}/articles/{aid}/diff/{a}...{b}{ext}"

    def index(self) -> str:
        return f"{self.base_url}/"


class _AtomLinks(BaseExtension):
    """Feed-level <link>s feedgen cannot write (rel first/next/previous/hub)."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_atom(self, feed: Any) -> Any:
        _append_links(feed, self.links, before="entry")
        return feed


class _EntryLinks(BaseEntryExtension):
    """Entry-level <link>s with any rel: feedgen 1.0's entry link() drops rel
    for anything but alternate, so RFC 5829 relations are written here."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: Any) -> Any:
        _append_links(entry, self.links, before="summary")
        return entry


def _append_links(parent: Any, links: list[dict[str, str]], before: str) -> None:
    # feedgen builds un-namespaced elements under a root whose default
    # namespace is Atom; ours follow suit, so no ns0: prefix appears.
    anchor = parent.find(before)
    for attrs in links:
        el = etree.SubElement(parent, "link", attrs)
        if anchor is not None:
            anchor.addprevious(el)


def history_html(view: EntryView, links: Links) -> str:
    """The "Update history" list that closes every entry's content: most
    readers update a changed entry silently, so this is what people see."""
    items = []
    previous: VersionRow | None = None
    for v in view.history:
        when = whole_seconds(v.seen_at).strftime("%Y-%m-%d %H:%M UTC")
        if previous is None:
            what = f"first seen, {v.words} words"
        else:
            parts = [f"+{v.words_added} / \u2212{v.words_removed} words"]
            if v.title != previous.title:
                parts.append(
                    f"headline changed from “{html.escape(previous.title)}” "
                    f"to “{html.escape(v.title)}”"
                )
            if v.change_class not in ("initial", "edit"):
                parts.append(v.change_class + (f" of version {v.revert_of}" if v.revert_of else ""))
            diff = links.diff(view.article.id, previous.number, v.number)
            what = ", ".join(parts) + f' (<a href="{html.escape(diff)}">what changed</a>)'
        items.append(f"<li>Version {v.number}, {when}: {what}</li>")
        previous = v
    return "<h3>Update history</h3>\n<ul>\n" + "\n".join(reversed(items)) + "\n</ul>"


def entry_content(view: EntryView, links: Links) -> str:
    return f"{view.latest.html}\n<hr/>\n{history_html(view, links)}"


def published_of(article: ArticleRow) -> datetime:
    """When the article first appeared: the upstream's own date when it is
    plausible (not after we first saw it), else the first time we saw it."""
    if article.published_at and article.published_at <= article.first_seen_at:
        return article.published_at
    return article.first_seen_at


def _generator(fg: FeedGenerator, links: Links) -> None:
    fg.generator("feedsvc", version=__version__, uri=links.index())


def _new_feed(
    fid: str, title: str, self_url: str, alternate: str, updated: datetime, links: Links
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("feedsvc_links", _AtomLinks, _EntryLinks, atom=True, rss=False)
    fg.id(fid)
    fg.title(title)
    fg.updated(whole_seconds(updated))
    fg.link(href=alternate, rel="alternate", type="text/html")
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.author({"name": "feedsvc"})
    _generator(fg, links)
    return fg


def _entry_links(fe: FeedEntry, links: list[dict[str, str]]) -> None:
    fe.feedsvc_links.links = links


def article_entry(fg: FeedGenerator, view: EntryView, links: Links) -> FeedEntry:
    a, v = view.article, view.latest
    fe = fg.add_entry(order="append")
    fe.id(entry_id(a.id))
    fe.title(v.title or "(untitled)")
    fe.updated(whole_seconds(v.seen_at))
    fe.published(whole_seconds(published_of(a)))
    if v.author:
        fe.author({"name": v.author})
    fe.content(entry_content(view, links), type="html")
    rels = [
        {"rel": "alternate", "type": "text/html", "href": a.url or links.article(a.id)},
        {"rel": "version-history", "type": "text/html", "href": links.article(a.id)},
    ]
    if v.number > 1:
        previous = view.history[-2].number if len(view.history) > 1 else v.number - 1
        rels.append(
            {
                "rel": "predecessor-version",
                "type": "text/html",
                "href": links.version(a.id, previous),
            }
        )
    _entry_links(fe, rels)
    if v.developing:
        fe.category(term="developing", label="Developing story")
    if len(view.history) > 1:
        fe.category(term="updated", label="Updated")
    return fe


def feed_atom(
    name: str,
    title: str,
    views: Sequence[EntryView],
    links: Links,
    *,
    updated: datetime | None = None,
    extra_links: Sequence[dict[str, str]] = (),
) -> bytes:
    """/feeds/NAME.atom: one entry per article, newest update first."""
    newest = max((whole_seconds(v.latest.seen_at) for v in views), default=None)
    fg = _new_feed(
        feed_id(name), title, links.feed(name), links.index(), newest or updated or EPOCH, links
    )
    fg.subtitle(f"{title}: articles with their update history")
    fg.feedsvc_links.links = list(extra_links)
    for view in views:
        article_entry(fg, view, links)
    return bytes(fg.atom_str(pretty=False))
