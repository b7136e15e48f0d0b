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

from feedsvc import __version__, history
from feedsvc.changes import Changes, find_changes, summary_lines
from feedsvc.diffformat import paragraph_html, title_html
from feedsvc.filters import STEALTH, RevisionFilter
from feedsvc.links import (
    Links,
    article_feed_id,
    entry_id,
    feed_id,
    revision_id,
    revisions_feed_id,
    whole_seconds,
)
from feedsvc.models import ArticleRow, EntryView, RevisionView, VersionRow
from feedsvc.text import sanitize_html, web_url, xml_safe, xml_text
from feedsvc.textdiff import TextDiff, diff_texts

ATOM_NS = "http://www.w3.org/2005/Atom"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


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


@dataclass(frozen=True)
class PageLinks:
    """Where a document sits in a paged feed (RFC 5005 section 3): `first`
    is the subscription document, `next` older entries, `previous` newer."""

    self_url: str
    first: str
    next: str | None = None
    previous: str | None = None

    def links(self) -> list[dict[str, str]]:
        rels = [("first", self.first), ("previous", self.previous), ("next", self.next)]
        return [
            {"rel": rel, "type": "application/atom+xml", "href": href}
            for rel, href in rels
            if href is not None
        ]


def history_html(view: EntryView, links: Links) -> str:
    """The "Update history" list that closes every entry's content: most
    readers update a changed entry silently, so this is what people see."""
    items = []
    for previous, v in history.revisions(view.history):
        when = whole_seconds(v.seen_at).strftime("%Y-%m-%d %H:%M UTC")
        if previous is None:
            what = f"first seen, {v.words} words"
        else:
            parts = [f"+{v.words_added} / \u2212{v.words_removed} words"]
            retitled = v.title != previous.title
            if retitled:
                parts.append(
                    f"headline changed from “{html.escape(previous.title)}” "
                    f"to “{html.escape(v.title)}”"
                )
            if v.change_class not in ("initial", "edit") and not (
                retitled and v.change_class == "headline"  # said just above
            ):
                parts.append(v.change_class + (f" of version {v.revert_of}" if v.revert_of else ""))
            if v.stealth:
                parts.append("stealth edit (no notice to readers)")
            diff = links.diff(view.article.id, previous.number, v.number)
            what = ", ".join(parts) + f' (<a href="{html.escape(diff)}">what changed</a>)'
        items.append(f"<li>Version {v.number}, {when}: {what}</li>")
    return "<h3>Update history</h3>\n<ul>\n" + "\n".join(reversed(items)) + "\n</ul>"


def entry_content(view: EntryView, links: Links) -> str:
    return f"{view.latest.html}\n<hr/>\n{history_html(view, links)}"


def published_of(article: ArticleRow) -> datetime:
    """When the article first appeared: the upstream's own date when it is
    plausible (not after we first saw it), else the first time we saw it."""
    if article.published_at and article.published_at <= article.first_seen_at:
        return article.published_at
    return article.first_seen_at


class _XmlSafe:
    """feedgen behind the one boundary where text enters a feed document:
    every string handed to a FeedGenerator, its entries or its extensions
    (titles, authors, categories, content, links) loses the characters XML
    forbids first (text.xml_safe). Without it one upstream <author> holding
    ESC made every Atom document of its feed a 500."""

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value) and not isinstance(value, type):

            def call(*args: Any, **kwargs: Any) -> Any:
                return _xml_safe_object(value(*xml_safe(args), **xml_safe(kwargs)))

            return call
        return _xml_safe_object(value)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, xml_safe(value))


def _xml_safe_object(value: Any) -> Any:
    """feedgen's own objects (entries, extensions) come back wrapped too."""
    module = type(value).__module__
    if module.startswith("feedgen") or module == __name__:
        return _XmlSafe(value)
    return value


def _feed_generator() -> Any:
    return _XmlSafe(FeedGenerator())


def _generator(fg: FeedGenerator, links: Links) -> None:
    fg.generator("feedsvc", version=__version__, uri=links.index())


def _new_feed(
    fid: str, title: str, self_url: str, alternate: str, updated: datetime, links: Links
) -> FeedGenerator:
    fg = _feed_generator()
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
        {"rel": "alternate", "type": "text/html", "href": web_url(a.url) or links.article(a.id)},
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
    if any(h.stealth for h in view.history):
        fe.category(term="stealth", label="Stealth edit")
    return fe


def hub_links(hub: str | None) -> list[dict[str, str]]:
    """WebSub discovery: the hub beside rel=self, which every feed has."""
    return [{"rel": "hub", "href": hub}] if hub else []


def feed_atom(
    name: str,
    title: str,
    views: Sequence[EntryView],
    links: Links,
    *,
    updated: datetime | None = None,
    page: PageLinks | None = None,
    hub: str | None = None,
    extra_links: Sequence[dict[str, str]] = (),
) -> bytes:
    """/feeds/NAME.atom: one entry per article, newest update first; with
    `page`, one page of the paged feed (RFC 5005 section 3), its own URL as
    rel=self. Feed `updated` is the newest entry's, so an archive page's
    bytes change only when its own entries do."""
    newest = max((whole_seconds(v.latest.seen_at) for v in views), default=None)
    self_url = page.self_url if page else links.feed(name)
    fg = _new_feed(feed_id(name), title, self_url, links.index(), newest or updated or EPOCH, links)
    fg.subtitle(f"{title}: articles with their update history")
    fg.feedsvc_links.links = [
        *(page.links() if page else []),
        *hub_links(hub),
        *extra_links,
    ]
    for view in views:
        article_entry(fg, view, links)
    return bytes(fg.atom_str(pretty=False))


# -- revisions, one article's versions, RSS, OPML ---------------------------


def folded_diff_html(d: TextDiff, *, context: int = 1) -> str:
    """The diff's paragraphs with inline-styled <ins>/<del> (feed readers
    drop <style>): every changed paragraph with `context` paragraphs around
    it; longer unchanged stretches are folded into one line."""
    changed = [i for i, p in enumerate(d.paragraphs) if p.kind != "equal"]
    shown = {j for i in changed for j in range(i - context, i + context + 1)}
    out: list[str] = []
    skipped = 0
    for i, p in enumerate(d.paragraphs):
        if i not in shown:
            skipped += 1
            continue
        if skipped:
            out.append(_folded(skipped))
            skipped = 0
        out.append(paragraph_html(p, inline_style=True))
    if skipped and out:
        out.append(_folded(skipped))
    return "\n".join(out)


def _folded(count: int) -> str:
    noun = "paragraph" if count == 1 else "paragraphs"
    return f'<p style="color:#6e7781"><em>[{count} unchanged {noun}]</em></p>'


def revision_summary(v: VersionRow, previous: VersionRow | None) -> str:
    """For example "+12 / -3 words, append" or "first version, 250 words"."""
    if previous is None:
        return f"first version, {v.words} words"
    parts = [f"+{v.words_added} / \u2212{v.words_removed} words", v.change_class]
    if v.revert_of:
        parts[-1] += f" of version {v.revert_of}"
    if v.stealth:
        parts.append("stealth edit")
    return ", ".join(parts)


def revision_content(view: RevisionView, links: Links) -> str:
    """What a revisions.atom entry says: the headline change, the changed
    paragraphs, and a link to the full diff. A first version shows its text."""
    a, v, p = view.article, view.version, view.previous
    if p is None:
        return f"<p><em>First version, {v.words} words.</em></p>\n{v.html}"
    out = [f"<p><em>Version {v.number}: {html.escape(revision_summary(v, p))}.</em></p>"]
    d = diff_texts(p.title, p.text, v.title, v.text)
    if d.title_changed:
        out.append(f"<p><strong>Headline:</strong> {title_html(d, inline_style=True)}</p>")
    out += changes_html(find_changes(p.title, p.text, v.title, v.text, d), v.stealth)
    body = folded_diff_html(d)
    out.append(body or "<p><em>The text did not change.</em></p>")
    href = html.escape(links.diff(a.id, p.number, v.number))
    out.append(f'<p><a href="{href}">Full diff of version {p.number} and {v.number}</a></p>')
    return sanitize_html("\n".join(out))


def changes_html(changes: Changes, stealth: bool) -> list[str]:
    """Paragraphs naming a revision's stealth and its number, quote and name
    changes ("Numbers: 12 -> 15 (people were killed)")."""
    return [f"<p>{html.escape(line)}</p>" for line in summary_lines(changes, stealth)]


def revision_entry(fg: FeedGenerator, view: RevisionView, links: Links, content: str) -> FeedEntry:
    a, v, p = view.article, view.version, view.previous
    fe = fg.add_entry(order="append")
    fe.id(revision_id(a.id, v.number))
    label = "new" if p is None else f"updated, version {v.number}"
    fe.title(f"{v.title or '(untitled)'} ({label})")
    fe.updated(whole_seconds(v.seen_at))
    fe.published(whole_seconds(v.seen_at))
    if v.author:
        fe.author({"name": v.author})
    fe.content(content, type="html")
    alternate = links.version(a.id, v.number) if p is None else links.diff(a.id, p.number, v.number)
    rels = [
        {"rel": "alternate", "type": "text/html", "href": alternate},
        {"rel": "version-history", "type": "text/html", "href": links.article(a.id)},
        {"rel": "related", "type": "text/html", "href": web_url(a.url) or links.article(a.id)},
    ]
    if p is not None:
        rels.append(
            {
                "rel": "predecessor-version",
                "type": "text/html",
                "href": links.version(a.id, p.number),
            }
        )
    _entry_links(fe, rels)
    fe.category(term=v.change_class)
    if v.stealth:
        fe.category(term="stealth", label="Stealth edit")
    if v.developing:
        fe.category(term="developing", label="Developing story")
    return fe


def revisions_atom(
    name: str,
    title: str,
    views: Sequence[RevisionView],
    links: Links,
    *,
    updated: datetime | None,
    hub: str | None = None,
    flt: RevisionFilter | None = None,
) -> bytes:
    """/feeds/NAME/revisions.atom: one entry per revision, newest first, for
    readers that show an updated entry only once. With a filter, only the
    revisions it keeps, under the filtered feed's own id and self link."""
    newest = max((whole_seconds(v.version.seen_at) for v in views), default=None)
    query = flt.query if flt is not None else ""
    kept = f" ({flt.describe()})" if flt is not None and flt.active else ""
    fg = _new_feed(
        revisions_feed_id(name, query),
        f"{title}: revisions{kept}",
        links.revisions(name, query),
        links.index(),
        newest or updated or EPOCH,
        links,
    )
    fg.subtitle(f"{title}: one entry per revision{kept}, with what changed")
    fg.feedsvc_links.links = hub_links(hub)
    for view in views:
        revision_entry(fg, view, links, revision_content(view, links))
    return bytes(fg.atom_str(pretty=False))


def article_atom(
    article: ArticleRow,
    versions: Sequence[VersionRow],
    links: Links,
    *,
    hub: str | None = None,
) -> bytes:
    """/articles/ID.atom: one entry per version of one article, newest first;
    each entry carries the version's full text. `versions` is oldest first."""
    latest = history.latest(versions)
    title = latest.title if latest is not None else article.key
    fg = _new_feed(
        article_feed_id(article.id),
        title or "(untitled)",
        links.article_feed(article.id),
        links.article(article.id),
        whole_seconds(latest.seen_at) if latest is not None else article.first_seen_at,
        links,
    )
    fg.subtitle(f"Every version of {title}")
    fg.feedsvc_links.links = hub_links(hub)
    entries: list[tuple[RevisionView, str]] = []
    for previous, v in history.revisions(versions):
        view = RevisionView(article, v, previous)
        summary = html.escape(revision_summary(v, previous))
        entries.append((view, f"<p><em>Version {v.number}: {summary}.</em></p>\n{v.html}"))
    for view, content in reversed(entries):
        revision_entry(fg, view, links, content)
    return bytes(fg.atom_str(pretty=False))


def feed_rss(name: str, title: str, views: Sequence[EntryView], links: Links) -> bytes:
    """/feeds/NAME.rss: the Atom feed's entries as RSS 2.0 items. The guid is
    the Atom entry id (not a URL: isPermaLink="false"), so it never changes;
    pubDate is when the article first appeared."""
    fg = _feed_generator()
    fg.title(title)
    # feedgen takes the channel <link> from the last link given: self first.
    fg.link(href=links.feed(name, "rss"), rel="self", type="application/rss+xml")
    fg.link(href=links.index(), rel="alternate")
    fg.description(f"{title}: articles with their update history")
    newest = max((whole_seconds(v.latest.seen_at) for v in views), default=EPOCH)
    fg.lastBuildDate(newest)
    _generator(fg, links)
    for view in views:
        a, v = view.article, view.latest
        fe = fg.add_entry(order="append")
        fe.guid(entry_id(a.id), permalink=False)
        fe.title(v.title or "(untitled)")
        fe.link(href=web_url(a.url) or links.article(a.id))
        fe.description(entry_content(view, links))
        fe.pubDate(whole_seconds(published_of(a)))
        if v.developing:
            fe.category(term="developing")
        if len(view.history) > 1:
            fe.category(term="updated")
    return bytes(fg.rss_str(pretty=False))


def opml(feeds: Sequence[tuple[str, str]], links: Links) -> bytes:
    """/feeds.opml: every served feed, (name, title) pairs, for importing
    into a reader. Each feed's revisions feed is listed in its own folder so
    that importing everything does not subscribe to the same news twice."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "feedsvc feeds"
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    feeds = [(name, xml_text(title)) for name, title in feeds]
    for name, title in feeds:
        etree.SubElement(
            body,
            "outline",
            type="rss",
            version="ATOM",
            text=title,
            title=title,
            xmlUrl=links.feed(name),
            htmlUrl=links.index(),
        )
    folder = etree.SubElement(body, "outline", text="One entry per revision")
    for name, title in feeds:
        etree.SubElement(
            folder,
            "outline",
            type="rss",
            version="ATOM",
            text=f"{title}: revisions",
            title=f"{title}: revisions",
            xmlUrl=links.revisions(name),
            htmlUrl=links.index(),
        )
    stealth = etree.SubElement(body, "outline", text="Stealth edits")
    for name, title in feeds:
        etree.SubElement(
            stealth,
            "outline",
            type="rss",
            version="ATOM",
            text=f"{title}: stealth edits",
            title=f"{title}: stealth edits",
            xmlUrl=links.revisions(name, STEALTH.query),
            htmlUrl=links.index(),
        )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
