"""An entry as read (from a feed, a page or a file) against its article's
stored state: the version it makes, or None when nothing changed. Pure: the
updater gathers the inputs and stores the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feedsvc.changes import stealth_edit
from feedsvc.config import FeedSettings
from feedsvc.models import ArticleForUpdate, EntryData, Evidence, VersionIntent
from feedsvc.revisions import decide, is_developing, normalise, normalise_title, word_count
from feedsvc.text import html_to_text, sanitize_html, text_to_html


def version_of(
    entry: EntryData,
    article: ArticleForUpdate | None,
    feed: FeedSettings,
    evidence: Evidence | None,
    markers: Sequence[str],
    *,
    suspect: bool = False,
    page_alone: bool = False,
) -> VersionIntent | None:
    """The version `entry` makes of `article` (None: a new article), with
    its change class, word counts, developing and stealth marks; None when
    its normalised title and text are the latest version's.

    `page_alone`: the entry is a page checked without its feed, so a page
    that gives no date of its own says nothing about the feed's date: the
    latest version's page date stands (it did not move)."""
    raw_text = entry.text if entry.text is not None else html_to_text(entry.html)
    text = normalise(raw_text, feed.ignore)
    title = normalise_title(entry.title) or _title_from(text)
    if not text and not title:
        return None
    latest = article.latest if article else None
    known = article.known_hashes if article else {}
    decision = decide(latest, known, title, text, markers)
    if not decision.changed:
        return None
    html = sanitize_html(entry.html) if entry.html.strip() else text_to_html(text)
    page_date = _page_date(entry)
    if page_date is None and page_alone and latest is not None:
        page_date = latest.page_date
    stealth = (
        latest is not None
        and decision.diff is not None
        and stealth_edit(
            latest,
            text,
            decision.change_class,
            decision.diff,
            page_date=page_date,
            min_words=feed.stealth_words,
        )
    )
    return VersionIntent(
        title=title,
        text=text,
        html=html,
        sha256=decision.sha256,
        words=word_count(text),
        words_added=decision.words_added,
        words_removed=decision.words_removed,
        change_class=decision.change_class,
        revert_of=decision.revert_of,
        developing=is_developing(text, markers),
        author=entry.author,
        evidence=evidence,
        suspect=suspect,
        stealth=stealth,
        page_date=page_date,
    )


def _page_date(entry: EntryData) -> datetime | None:
    """The date the page (or feed entry) gives for itself, latest first: a
    stealth edit is one where this did not move. A local file's date is
    its mtime, which moves with any save, not something readers see."""
    if entry.extractor in ("text", "html"):
        return None
    return entry.updated or entry.published


def _title_from(text: str) -> str:
    words = text.split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")
