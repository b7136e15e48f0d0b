"""What a notification says: the change loaded from the store, the template
context, the text and HTML renderings cut to a channel's limits, and the
webhook payload (described in the OpenAPI document, web/openapi.py).

Template context (README "Notifications" documents it for overrides):
  feed              the feed's name
  first             true for an article's first version
  headline          {changed, old, new}: old is the previous version's title
  version           the version as the JSON API shows it (number, seen_at,
                    change_class, words, words_added, words_removed, ...)
  words_added, words_removed   against the version diffed from
  paragraphs        the changed paragraphs, each {kind, text, html}: a
                    compact word diff ([-removed-] {+added+} in text,
                    <del>/<ins> in HTML; long unchanged runs shortened to ...)
  more              changed paragraphs left out to fit the channel
  links             {diff, article, version}: pages of this service
  ins_style, del_style   inline CSS for <ins>/<del> (mail clients drop <style>)
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from feedsvc.config import NotifySettings
from feedsvc.diffformat import DEL_STYLE, INS_STYLE
from feedsvc.export import iso
from feedsvc.jsonviews import article_json, version_json
from feedsvc.links import Links
from feedsvc.models import ArticleRow, VersionRow
from feedsvc.storage import ReadStore
from feedsvc.textdiff import DiffOp, TextDiff, diff_texts, paragraphs_of

TEMPLATES = Path(__file__).parent / "templates"
EVENT_TYPE = "article.version"
KEEP = 8  # unchanged words kept on each side of a change in the compact diff


@dataclass(frozen=True)
class Change:
    """One version and the one it is compared with (the latest earlier
    version that is not suspect), as stored."""

    article: ArticleRow
    version: VersionRow
    previous: VersionRow | None
    diff: TextDiff | None

    @property
    def feed(self) -> str:
        return self.article.feed


def load_change(store: ReadStore, article_id: str, number: int) -> Change:
    article = store.get_article(article_id)
    version = store.get_version(article_id, number)
    previous = None
    for n in range(number - 1, 0, -1):
        candidate = store.get_version(article_id, n)
        if not candidate.suspect:
            previous = candidate
            break
    diff = None
    if previous is not None:
        diff = diff_texts(previous.title, previous.text, version.title, version.text)
    return Change(article, version, previous, diff)


def sample_change(feed: str, now: datetime) -> Change:
    """A made-up edit, for `feedsvc notify test` on a database with none."""
    old_text = (
        "Firefighters were called to a warehouse on Dock Road at 6am.\n\nMore details to follow."
    )
    new_text = (
        "Firefighters were called to a warehouse on Dock Road at 6am. Four crews "
        "brought the fire under control by 8am.\n\nNo one was hurt, the fire service said."
    )
    article = ArticleRow(
        "0" * 16,
        feed,
        "sample",
        "https://example.org/news/fire",
        now,
        None,
        now,
        2,
        False,
        "active",
    )

    def row(number: int, title: str, text: str, cls: str, added: int, removed: int) -> VersionRow:
        return VersionRow(
            article.id,
            number,
            now,
            title,
            "0" * 64,
            len(text.split()),
            added,
            removed,
            cls,
            None,
            False,
            False,
            None,
            text,
            "",
        )

    old = row(1, "Fire at Dock Road warehouse", old_text, "initial", 0, 0)
    d = diff_texts(old.title, old_text, "Dock Road warehouse fire under control", new_text)
    new = row(2, d.new_title, new_text, "edit", d.words_added, d.words_removed)
    return Change(article, new, old, d)


# -- the compact word diff ---------------------------------------------------------


def _shorten(words: list[str], first: bool, last: bool) -> str:
    """An unchanged run: whole when short, else only the words next to the
    changes around it."""
    if len(words) <= 2 * KEEP + 1:
        return " ".join(words)
    if first and last:
        return " ".join(words[:KEEP]) + " ..."
    if first:
        return "... " + " ".join(words[-KEEP:])
    if last:
        return " ".join(words[:KEEP]) + " ..."
    return " ".join(words[:KEEP]) + " ... " + " ".join(words[-KEEP:])


def compact(
    ops: Sequence[DiffOp],
    deleted: Callable[[str], str],
    inserted: Callable[[str], str],
    equal: Callable[[str], str] = lambda s: s,
) -> str:
    parts = []
    for i, op in enumerate(ops):
        if op.kind == "equal":
            words = op.old_text.split()
            parts.append(equal(_shorten(words, i == 0, i == len(ops) - 1)))
            continue
        if op.old_text:
            parts.append(deleted(op.old_text))
        if op.new_text:
            parts.append(inserted(op.new_text))
    return " ".join(p for p in parts if p)


def _text_diff(ops: Sequence[DiffOp]) -> str:
    return compact(ops, lambda s: f"[-{s}-]", lambda s: f"{{+{s}+}}")


def _html_diff(ops: Sequence[DiffOp]) -> Markup:
    return Markup(
        compact(
            ops,
            lambda s: f'<del style="{DEL_STYLE}">{html.escape(s)}</del>',
            lambda s: f'<ins style="{INS_STYLE}">{html.escape(s)}</ins>',
            html.escape,
        )
    )


def changed_paragraphs(change: Change) -> list[dict[str, Any]]:
    if change.diff is None:  # a first version: its opening, as added text
        return [
            {"kind": "insert", "text": p, "html": Markup.escape(p)}
            for p in paragraphs_of(change.version.text)
        ]
    return [
        {"kind": p.kind, "text": _text_diff(p.ops), "html": _html_diff(p.ops)}
        for p in change.diff.paragraphs
        if p.kind in ("insert", "delete", "change")
    ]


def context(change: Change, links: Links) -> dict[str, Any]:
    v, prev = change.version, change.previous
    aid = change.article.id
    return {
        "feed": change.feed,
        "first": prev is None,
        "headline": {
            "changed": prev is not None and prev.title != v.title,
            "old": prev.title if prev is not None else None,
            "new": v.title,
        },
        "version": version_json(v, links),
        "words_added": change.diff.words_added if change.diff else v.words,
        "words_removed": change.diff.words_removed if change.diff else 0,
        "paragraphs": changed_paragraphs(change),
        "more": 0,
        "links": {
            "diff": links.diff(aid, prev.number, v.number) if prev else None,
            "article": links.article(aid),
            "version": links.version(aid, v.number),
        },
        "ins_style": INS_STYLE,
        "del_style": DEL_STYLE,
    }


# -- rendering ---------------------------------------------------------------------


class Renderer:
    """A target's templates: the built-in ones, or its own."""

    def __init__(self, target: NotifySettings) -> None:
        loader = jinja2.FileSystemLoader(TEMPLATES)
        self.text_env = jinja2.Environment(
            loader=loader, autoescape=False, keep_trailing_newline=False
        )
        self.html_env = jinja2.Environment(loader=loader, autoescape=True)
        self.title_template = (
            self.text_env.from_string(target.title_template)
            if target.title_template
            else self.text_env.get_template("title.txt.j2")
        )
        self.text_template = self._load(self.text_env, target.text_template, "text.txt.j2")
        self.html_template = self._load(self.html_env, target.html_template, "html.html.j2")

    @staticmethod
    def _load(env: jinja2.Environment, path: str | None, default: str) -> jinja2.Template:
        if path is None:
            return env.get_template(default)
        return env.from_string(Path(path).read_text(encoding="utf-8"))

    def title(self, ctx: dict[str, Any], limit: int = 0) -> str:
        text = " ".join(self.title_template.render(ctx).split())
        if limit and len(text) > limit:
            text = text[: limit - 3].rstrip() + "..."
        return text

    def body(self, ctx: dict[str, Any], fmt: str, limit: int = 0) -> str:
        """The message in `fmt` ("text" or "html") at most `limit` characters
        long (0: no limit): changed paragraphs are left out from the end
        until it fits ("... and N more"), the link to the diff always stays."""
        template = self.html_template if fmt == "html" else self.text_template
        paragraphs = ctx["paragraphs"]

        def render(n: int) -> str:
            out = template.render(
                {**ctx, "paragraphs": paragraphs[:n], "more": len(paragraphs) - n}
            )
            return _tidy(out)

        full = render(len(paragraphs))
        if not limit or len(full) <= limit:
            return full
        lo, hi = 0, len(paragraphs) - 1  # the most paragraphs that fit
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(render(mid)) <= limit:
                lo = mid
            else:
                hi = mid - 1
        out = render(lo)
        if len(out) <= limit:
            return out
        # Even the headline alone is too long: cut the text, keep the link.
        link = ctx["links"]["diff"] or ctx["links"]["article"]
        tail = f"\n{link}"
        text = _tidy(self.text_template.render({**ctx, "paragraphs": [], "more": len(paragraphs)}))
        cut = text[: max(0, limit - len(tail) - 3)] + "..." + tail
        return html.escape(cut) if fmt == "html" else cut


def _tidy(text: str) -> str:
    """Templates leave blank runs where a block was empty: at most one blank line."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        if not line.strip() and lines and not lines[-1].strip():
            continue
        lines.append(line.rstrip())
    return "\n".join(lines)


# -- the webhook payload -----------------------------------------------------------


def payload(change: Change, links: Links) -> dict[str, Any]:
    """The event a webhook receives (schema NewVersionEvent in the OpenAPI
    document, under `webhooks`): Standard Webhooks' {type, timestamp, data},
    with the article and versions as the JSON API shows them and the diff's
    changed paragraphs as operations."""
    v, prev = change.version, change.previous
    diff = None
    if change.diff is not None:
        diff = change.diff.to_dict()
        diff["paragraphs"] = [p for p in diff["paragraphs"] if p["kind"] != "equal"]
    aid = change.article.id
    return {
        "type": EVENT_TYPE,
        "timestamp": iso(v.seen_at),
        "data": {
            "feed": change.feed,
            "article": article_json(change.article, v.title, links),
            "version": version_json(v, links),
            "previous": version_json(prev, links) if prev is not None else None,
            "diff": diff,
            "links": {
                "diff": links.diff(aid, prev.number, v.number) if prev is not None else None,
                "article": links.article(aid),
            },
        },
    }
