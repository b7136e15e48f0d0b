"""Pure: when a source is polled next, and when an article's page is checked.

This is feedsvc's Decider (after lemon24/reader's): every decision about
time takes the history it needs, the settings that matter and `now`, and
returns a time (or None: not on its own any more). Nothing here reads the
clock, the database or the network; the Updater asks and storage keeps the
answers, so a restart resumes the schedule where it was.

Article pages (a page source, or an entry of a `fetch_articles` feed) are
checked on a ladder by the age of their last change: often while young,
rarer with age, then not at all. The ladder holds whether or not the
article is still in its feed and whether or not the feed changed, because
the edits people most want to see (stealth edits) change the page and
nothing else. A developing marker only ever adds checks; a change brings
the page back to the bottom rung; failures back off per page.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedsvc.models import EntryData

ERROR_BASE = 60.0  # seconds before the first retry after an error
# Exponents are capped: 2.0 ** 1100 does not fit in a float, and an int
# power that large times a float raises OverflowError (issue 12: a page
# unchanged for ~1,000 checks made `2 ** unchanged_checks` overflow).
MAX_DOUBLINGS = 64

# A rung of the ladder: until the last change is AGE old, check every EVERY
# seconds; EVERY None stands for the feed's own poll interval.
Rung = tuple[float, float | None]


def jitter_fraction(key: str, now: datetime) -> float:
    """A repeatable number in [0, 1) for `key` at `now`, so that sources
    configured together do not all fire in the same second."""
    digest = hashlib.sha256(f"{key}@{now.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def backoff(failures: int, interval: float, max_backoff: float) -> float:
    """Seconds to wait after `failures` consecutive errors: from ERROR_BASE
    (or the interval, if shorter) doubling per failure, at most `max_backoff`."""
    doublings = min(max(failures - 1, 0), MAX_DOUBLINGS)
    return min(max_backoff, min(interval, ERROR_BASE) * 2.0**doublings)


def next_poll(
    now: datetime,
    interval: float,
    *,
    key: str = "",
    failures: int = 0,
    retry_after: float | None = None,
    max_backoff: float = 86400.0,
    jitter: float = 0.1,
) -> datetime:
    """The next poll of a source (or the next try of a page that failed).

    After a success: `interval` plus up to `jitter` of it. After `failures`
    consecutive errors: exponential backoff from ERROR_BASE (never longer than
    `max_backoff`, never shorter than a server's Retry-After).
    """
    delay = interval if failures <= 0 else backoff(failures, interval, max_backoff)
    delay += delay * jitter * jitter_fraction(key, now)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_backoff))
    return now + timedelta(seconds=delay)


def developing_source_delay(
    since_change: float, developing_interval: float, interval: float
) -> float:
    """Gap before re-polling a source that is its own text (a feed of
    summaries, a local file) whose article is a developing story: as long
    as it has been since the last change, at least `developing_interval`,
    at most `interval`. Polled at 2m, 4m, 8m, 16m... after a change, that is
    the same doubling while unchanged that article pages get, with no
    counter to keep."""
    return min(interval, max(developing_interval, since_change))


# -- article pages -------------------------------------------------------------


@dataclass(frozen=True)
class PageRules:
    """The settings that decide one feed's page checks."""

    interval: float  # the feed's poll interval
    ladder: tuple[Rung, ...]  # [(age, every)], in order of age
    developing_interval: float
    developing_window: float
    max_backoff: float = 86400.0


@dataclass(frozen=True)
class PageHistory:
    """What is known of an article's page when its next check is decided."""

    last_change: datetime  # when its text last changed (first seen, if never)
    developing: bool = False  # its latest version carries a developing marker
    unchanged_checks: int = 0  # checks since the last change that found nothing new
    failures: int = 0  # consecutive failed checks
    # A page configured as a source is watched for as long as it is
    # configured: past the ladder's end it stays on the last rung.
    page_source: bool = False


@dataclass(frozen=True)
class PageNext:
    """A decision: the page's next check, and the counters to keep."""

    at: datetime | None  # None: no more checks of its own
    unchanged_checks: int
    failures: int = 0


def ladder_gap(age: float, rules: PageRules) -> float | None:
    """Gap between checks of a page whose last change is `age` seconds old,
    or None past the last rung. A rung never asks for checks more often
    than the one before it: the ladder only gets rarer with age."""
    gap = 0.0
    for until, every in rules.ladder:
        gap = max(gap, rules.interval if every is None else every)
        if age < until:
            return gap
    return None


def last_rung_gap(rules: PageRules) -> float:
    """The rarest gap of the ladder (the feed's interval when it is empty)."""
    gap = rules.interval if not rules.ladder else 0.0
    for _, every in rules.ladder:
        gap = max(gap, rules.interval if every is None else every)
    return gap


def developing_gap(unchanged_checks: int, rules: PageRules) -> float:
    """Gap between checks of a developing story: `developing_interval`,
    doubled after each check that found nothing new, never longer than the
    feed's interval (so a developing story is never checked less often than
    its feed, whatever `developing_interval` says)."""
    doublings = min(max(unchanged_checks, 0), MAX_DOUBLINGS)
    return min(rules.interval, rules.developing_interval * 2.0**doublings)


def page_gap(history: PageHistory, rules: PageRules, now: datetime) -> float | None:
    """Gap to a page's next check from `now`, or None: no more checks.
    The ladder by the age of the last change; a developing marker (within
    `developing_window` of the last change) can only shorten it."""
    age = (now - history.last_change).total_seconds()
    gap = ladder_gap(age, rules)
    if gap is None and history.page_source:
        gap = last_rung_gap(rules)
    if history.developing and age < rules.developing_window:
        fast = developing_gap(history.unchanged_checks, rules)
        gap = fast if gap is None else min(gap, fast)
    return gap


def after_check(
    prior: PageHistory | None,
    rules: PageRules,
    now: datetime,
    *,
    changed: bool,
    developing: bool = False,
) -> PageNext:
    """A page was fetched and read. `changed`: it made a new (believed)
    version, or it is a new article; `developing` is then that version's
    marker. A change brings the page back to the bottom of the ladder and
    resets the developing backoff; no change climbs it."""
    if changed or prior is None:
        history = PageHistory(
            last_change=now,
            developing=developing,
            unchanged_checks=0,
            page_source=prior.page_source if prior else False,
        )
    else:
        history = PageHistory(
            last_change=prior.last_change,
            developing=prior.developing,
            unchanged_checks=prior.unchanged_checks + 1,
            page_source=prior.page_source,
        )
    gap = page_gap(history, rules, now)
    at = now + timedelta(seconds=gap) if gap is not None else None
    return PageNext(at, history.unchanged_checks)


def after_failure(
    prior: PageHistory,
    rules: PageRules,
    now: datetime,
    *,
    key: str = "",
    retry_after: float | None = None,
) -> PageNext:
    """A page could not be fetched or read (not a 404/410: those end its
    checks): retried with exponential backoff of its own, never sooner than
    a server's Retry-After, whatever its feed or the other pages do."""
    failures = prior.failures + 1
    at = next_poll(
        now,
        rules.interval,
        key=key,
        failures=failures,
        retry_after=retry_after,
        max_backoff=rules.max_backoff,
    )
    return PageNext(at, prior.unchanged_checks, failures)


def check_with_feed(
    *,
    status: str | None,
    stored_entry: str | None,
    entry: str,
    everything: bool = False,
) -> bool:
    """Should a poll of a `fetch_articles` feed fetch this entry's page now,
    rather than leave it to the page's own schedule?

    `status` is the stored article's (None: a new article), `stored_entry`
    and `entry` the fingerprints of the entry as last seen and as in this
    poll. Yes for a new article, an entry that changed in the feed (title,
    summary, dates, link: the site touched it), an article back in its feed
    after leaving it, and everything on `feedsvc poll` ("look now"). Never
    for a page that is gone or moved.
    """
    if status is None:
        return True
    if status in ("gone", "moved"):
        return False
    if everything or status in ("dropped", "stopped"):
        return True
    return stored_entry != entry


def entry_fingerprint(entry: EntryData) -> str:
    """sha256 of what a feed says about an entry (title, link, summary,
    dates), whitespace folded, so an entry that changed in the feed can be
    told from one that did not."""

    def fold(text: str | None) -> str:
        return " ".join((text or "").split())

    facts = {
        "title": fold(entry.title),
        "url": entry.url or "",
        "summary": fold(entry.html) or fold(entry.text),
        "published": entry.published.isoformat() if entry.published else None,
        "updated": entry.updated.isoformat() if entry.updated else None,
    }
    canonical = json.dumps(facts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
