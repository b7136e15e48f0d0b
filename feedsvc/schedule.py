"""Pure: when a source or an article is polled next.

Every function takes `now` and returns a datetime; none reads the clock.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

ERROR_BASE = 60.0  # seconds before the first retry after an error


def jitter_fraction(key: str, now: datetime) -> float:
    """A repeatable number in [0, 1) for `key` at `now`, so that sources
    configured together do not all fire in the same second."""
    digest = hashlib.sha256(f"{key}@{now.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


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
    """The next poll of a source.

    After a success: `interval` plus up to `jitter` of it. After `failures`
    consecutive errors: exponential backoff from ERROR_BASE (never longer than
    `max_backoff`, never shorter than a server's Retry-After).
    """
    if failures <= 0:
        delay = interval
    else:
        # The exponent is capped: 2**1100 does not fit in a float.
        delay = min(max_backoff, min(interval, ERROR_BASE) * 2.0 ** min(failures - 1, 64))
    delay += delay * jitter * jitter_fraction(key, now)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_backoff))
    return now + timedelta(seconds=delay)


def developing_delay(unchanged_polls: int, developing_interval: float, interval: float) -> float:
    """Gap before re-checking a developing article: `developing_interval`,
    doubled after each poll that found no change, up to the normal interval."""
    return min(interval, developing_interval * 2 ** max(0, unchanged_polls))


def recheck_delay(since_change: float, ladder: tuple[tuple[float, float], ...]) -> float | None:
    """Gap before re-checking an article that has left its feed, from the
    ladder [(age, every), ...]; None once it is older than the last rung."""
    for age, every in ladder:
        if since_change < age:
            return every
    return None


def article_check_delay(
    *,
    developing: bool,
    since_change: float,
    unchanged_checks: int,
    in_feed: bool,
    interval: float,
    developing_interval: float,
    developing_window: float,
    ladder: tuple[tuple[float, float], ...],
) -> float | None:
    """Gap before an article's page is fetched again on its own schedule, or
    None when it has none.

    A developing story (its latest version carries a marker, and its last
    change is less than `developing_window` old) is re-checked fast, backing
    off while nothing changes. Otherwise an article still in its feed needs
    no schedule of its own: polling the feed covers it. One that has left
    its feed climbs the re-check ladder by the age of its last change, and
    stops past the last rung.
    """
    if developing and since_change < developing_window:
        return developing_delay(unchanged_checks, developing_interval, interval)
    if in_feed:
        return None
    return recheck_delay(since_change, ladder)


def developing_source_delay(
    since_change: float, developing_interval: float, interval: float
) -> float:
    """Gap before re-polling a source (a feed of summaries, a local file)
    whose article is a developing story: as long as it has been since the
    last change, at least `developing_interval`, at most `interval`. Polled
    at 2m, 4m, 8m, 16m... after a change, that is the same doubling while
    unchanged that article pages get, with no counter to keep."""
    return min(interval, max(developing_interval, since_change))
