"""How a newsroom edits, in numbers: per feed and for all feeds, over a
window. Pure: it folds rows the store streams (one article, then its
versions in order) into figures; no database, no clock.

What the window means. `since` picks two things:
- the articles first seen at or after it (the cohort): articles followed,
  the share revised, revisions per article, time to the first revision and
  pages gone are about them, each with all its revisions;
- the revisions seen at or after it: revisions per day, change classes,
  headline changes, corrections, deletions and reverts count those.
Without `since`, both are everything.

A revision is a published version after the first (suspect versions, the
extraction guard's doubts, are not published and do not count). The median
is the middle value (the mean of the two middle ones for an even count);
p90 is the nearest-rank 90th percentile.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

CLASSES = ("append", "edit", "headline", "correction", "deletion", "revert")

# Revisions per article, as a distribution: the labels people read.
REVISION_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-4", 3, 4),
    ("5-9", 5, 9),
    ("10+", 10, None),
)

# Time from first seen to first revision, as a distribution (seconds).
DELAY_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("< 10 min", 0, 600),
    ("10-60 min", 600, 3600),
    ("1-6 h", 3600, 6 * 3600),
    ("6-24 h", 6 * 3600, 86400),
    ("1-7 days", 86400, 7 * 86400),
    ("> 7 days", 7 * 86400, None),
)


@dataclass(frozen=True)
class ArticleFacts:
    """One article with its versions, as the store streams them."""

    feed: str
    first_seen_at: datetime
    status: str
    versions: Sequence[VersionFacts]


@dataclass(frozen=True)
class VersionFacts:
    number: int
    seen_at: datetime
    title: str
    change_class: str
    suspect: bool


@dataclass
class FeedStats:
    """The figures for one feed (or, with feed None, for all of them)."""

    feed: str | None
    articles: int = 0
    revised: int = 0
    revisions: int = 0
    headline_changes: int = 0
    corrections: int = 0
    deletions: int = 0
    reverts: int = 0
    pages_gone: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    per_article: Counter[int] = field(default_factory=Counter)  # revisions -> articles
    per_day: Counter[date] = field(default_factory=Counter)
    first_revision_delays: list[float] = field(default_factory=list)  # seconds

    @property
    def revised_share(self) -> float | None:
        return self.revised / self.articles if self.articles else None

    @property
    def median_to_first_revision(self) -> float | None:
        delays = self.first_revision_delays
        return float(statistics.median(delays)) if delays else None

    @property
    def p90_to_first_revision(self) -> float | None:
        return percentile(self.first_revision_delays, 90)

    def revisions_per_article(self) -> dict[str, int]:
        return {
            label: sum(
                n for k, n in self.per_article.items() if low <= k and (high is None or k <= high)
            )
            for label, low, high in REVISION_BUCKETS
        }

    def delay_distribution(self) -> dict[str, int]:
        return {
            label: sum(
                1
                for d in self.first_revision_delays
                if low <= d < (math.inf if high is None else high)
            )
            for label, low, high in DELAY_BUCKETS
        }


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least pct% of the
    values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[rank - 1])


@dataclass(frozen=True)
class Stats:
    since: datetime | None
    feeds: tuple[FeedStats, ...]
    total: FeedStats

    def days(self) -> list[date]:
        """Every day from the first revision to the last, for charts."""
        seen = sorted(self.total.per_day)
        if not seen:
            return []
        first, last = seen[0], seen[-1]
        return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


def compute(
    articles: Iterable[ArticleFacts], feeds: Sequence[str], since: datetime | None = None
) -> Stats:
    """Fold the articles into per-feed and overall figures. `feeds` names the
    feeds to report, in order (a feed with no articles reports zeros)."""
    per_feed = {name: FeedStats(name) for name in feeds}
    total = FeedStats(None)
    for article in articles:
        target = per_feed.get(article.feed)
        if target is None:
            continue  # a feed no longer configured
        for stats in (target, total):
            _add_article(stats, article, since)
    return Stats(since, tuple(per_feed.values()), total)


def _add_article(stats: FeedStats, article: ArticleFacts, since: datetime | None) -> None:
    in_cohort = since is None or article.first_seen_at >= since
    published = [v for v in article.versions if not v.suspect]
    revisions = published[1:]
    if in_cohort:
        stats.articles += 1
        stats.per_article[len(revisions)] += 1
        if article.status == "gone":
            stats.pages_gone += 1
        if revisions:
            stats.revised += 1
            delay = (revisions[0].seen_at - article.first_seen_at).total_seconds()
            stats.first_revision_delays.append(max(0.0, delay))
    for previous, version in zip(published, revisions, strict=False):
        if since is not None and version.seen_at < since:
            continue
        stats.revisions += 1
        stats.classes[version.change_class] += 1
        stats.per_day[version.seen_at.date()] += 1
        if version.title != previous.title:
            stats.headline_changes += 1
        if version.change_class == "correction":
            stats.corrections += 1
        elif version.change_class == "deletion":
            stats.deletions += 1
        elif version.change_class == "revert":
            stats.reverts += 1


def as_json(stats: Stats, titles: Mapping[str, str]) -> dict[str, object]:
    """The figures as /api/stats answers them."""
    from feedsvc.export import iso

    return {
        "since": iso(stats.since),
        "all": _feed_json(stats.total, None),
        "feeds": [_feed_json(f, titles.get(f.feed or "")) for f in stats.feeds],
    }


def _feed_json(stats: FeedStats, title: str | None) -> dict[str, object]:
    out: dict[str, object] = {}
    if stats.feed is not None:
        out["feed"] = stats.feed
        out["title"] = title
    out.update(
        {
            "articles": stats.articles,
            "revised": stats.revised,
            "revised_share": _round(stats.revised_share),
            "revisions": stats.revisions,
            "revisions_per_article": stats.revisions_per_article(),
            "seconds_to_first_revision": {
                "median": _round(stats.median_to_first_revision),
                "p90": _round(stats.p90_to_first_revision),
                "distribution": stats.delay_distribution(),
            },
            "headline_changes": stats.headline_changes,
            "corrections": stats.corrections,
            "deletions": stats.deletions,
            "reverts": stats.reverts,
            "pages_gone": stats.pages_gone,
            "classes": {name: stats.classes.get(name, 0) for name in CLASSES},
            "revisions_per_day": [
                {"date": day.isoformat(), "revisions": n}
                for day, n in sorted(stats.per_day.items())
            ],
        }
    )
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def duration(seconds: float | None) -> str:
    """A duration as people read it: 45 s, 12 min, 1 h 20 min, 2 days 3 h."""
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


# The rows of the summary table, shared by the page and the terminal.
SUMMARY: tuple[tuple[str, Callable[[FeedStats], str]], ...] = (
    ("Articles followed", lambda s: str(s.articles)),
    ("Revised at least once", lambda s: f"{s.revised} ({share(s.revised_share)})"),
    ("Revisions", lambda s: str(s.revisions)),
    ("Median time to first revision", lambda s: duration(s.median_to_first_revision)),
    ("90th percentile time to first revision", lambda s: duration(s.p90_to_first_revision)),
    ("Headline changes", lambda s: str(s.headline_changes)),
    ("Corrections with a notice", lambda s: str(s.corrections)),
    ("Deletions", lambda s: str(s.deletions)),
    ("Reverts", lambda s: str(s.reverts)),
    ("Pages gone", lambda s: str(s.pages_gone)),
)


def summary_rows(stats: Stats) -> list[tuple[str, list[str]]]:
    """(label, [value for all feeds, value per feed...]) for each summary row."""
    columns = [stats.total, *stats.feeds]
    return [(label, [fmt(c) for c in columns]) for label, fmt in SUMMARY]
