"""`feedsvc reextract`: extraction run again over stored evidence, after an
extractor upgrade or a change of a feed's rules. A version is made only
where the text now comes out different.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from feedsvc.config import Settings
from feedsvc.deciding import version_of
from feedsvc.errors import NotFound, ParseError
from feedsvc.extract import Rules
from feedsvc.models import FeedData
from feedsvc.reading import parse_document, reread
from feedsvc.revisions import developing_markers
from feedsvc.storage import UpdaterStore

log = logging.getLogger("feedsvc.reextract")


def reextract(
    settings: Settings, store: UpdaterStore, now: datetime, feed: str | None = None
) -> tuple[int, int]:
    """Run extraction again over each article's latest stored raw response
    (its evidence) and store a version where the text now comes out
    different. Titles are kept: this is about the body. Returns (articles
    re-extracted, new versions)."""
    markers = developing_markers(settings.scheduler.developing_markers)
    examined = added = 0
    feeds: dict[int, FeedData] = {}  # a feed document is parsed once, not per entry
    for feed_name, _aid, key, raw_id in store.list_latest_raws(feed):
        try:
            feed_settings = settings.feed(feed_name)
        except NotFound:
            continue  # a feed no longer configured
        article = store.get_articles_for_update(feed_name, [key]).get(key)
        if article is None or article.latest is None:
            continue
        evidence = store.get_raw(raw_id)
        try:
            if (evidence.extractor or "").startswith("feedparser"):
                if raw_id not in feeds:
                    feeds[raw_id] = parse_document(evidence.body, evidence.url)
                entry = next((e for e in feeds[raw_id].entries if e.key == key), None)
            else:
                entry = reread(evidence, key, Rules.of(feed_settings))
        except ParseError as exc:
            log.warning("reextract %s %s: %s", feed_name, key, exc)
            continue
        if entry is None:
            continue
        examined += 1
        entry = replace(entry, title=article.latest.title)
        version = version_of(entry, article, feed_settings, evidence, markers)
        if version is not None:
            store.add_version(feed_name, key, version, now)
            added += 1
    return examined, added
