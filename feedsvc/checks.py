"""An article page's next check, as the store records it: what
schedule.py decides, mapped from an article's stored state and the outcome
of a fetch (a page read, unchanged, or failed) onto the CheckIntent that
finish_poll and finish_check write. Pure: no database, no HTTP, no clock.
"""

from __future__ import annotations

from datetime import datetime

from feedsvc import schedule
from feedsvc.config import FeedSettings, Settings
from feedsvc.errors import FeedsvcError, FetchError
from feedsvc.models import ArticleForUpdate, CheckIntent, FetchResult, VersionIntent
from feedsvc.schedule import PageHistory, PageRules, next_poll


def page_rules(settings: Settings, feed: FeedSettings) -> PageRules:
    """The settings that decide the checks of this feed's pages."""
    sched = settings.scheduler
    return PageRules(
        interval=settings.feed_interval(feed),
        ladder=sched.recheck,
        developing_interval=sched.developing_interval,
        developing_window=sched.developing_window,
        max_backoff=sched.max_backoff,
    )


def page_history(
    article: ArticleForUpdate, now: datetime, *, page_source: bool = False
) -> PageHistory:
    """What the schedule needs to know of a stored article's page."""
    return PageHistory(
        last_change=article.updated_at or now,
        developing=article.developing,
        unchanged_checks=article.unchanged_checks,
        failures=article.check_failures,
        page_source=page_source,
    )


def after_check(
    settings: Settings,
    article: ArticleForUpdate | None,
    version: VersionIntent | None,
    result: FetchResult,
    feed: FeedSettings,
    now: datetime,
    *,
    in_feed: bool = True,
    page_source: bool = False,
) -> CheckIntent:
    """An article page's checks after a successful fetch, as the schedule
    decides: on the ladder by the age of its last change (back to the bottom
    after a change), sooner while developing. Past the ladder's end an
    article that left its feed is `stopped`."""
    changed = version is not None and not version.suspect
    decision = schedule.after_check(
        page_history(article, now, page_source=page_source) if article else None,
        page_rules(settings, feed),
        now,
        changed=changed,
        developing=changed and version is not None and version.developing,
    )
    keep = result.not_modified and article is not None
    return CheckIntent(
        next_check_at=decision.at,
        unchanged_checks=decision.unchanged_checks,
        etag=result.etag or (article.check_etag if keep and article else None),
        last_modified=result.last_modified
        or (article.check_last_modified if keep and article else None),
        status="stopped" if decision.at is None and not in_feed else None,
    )


def after_failure(
    settings: Settings,
    article: ArticleForUpdate,
    feed: FeedSettings,
    exc: FeedsvcError,
    now: datetime,
) -> CheckIntent:
    """A page that failed: 404 or 410 ends the article's checks with an
    event in its history; other errors back off, this page alone."""
    status = exc.status if isinstance(exc, FetchError) else None
    if status in (404, 410) or (isinstance(exc, FetchError) and exc.gone):
        return CheckIntent(
            next_check_at=None,
            unchanged_checks=article.unchanged_checks,
            status="gone",
            event=("gone", str(exc)),
        )
    decision = schedule.after_failure(
        page_history(article, now),
        page_rules(settings, feed),
        now,
        key=article.id,
        retry_after=exc.retry_after if isinstance(exc, FetchError) else None,
    )
    return CheckIntent(
        next_check_at=decision.at,
        unchanged_checks=decision.unchanged_checks,
        etag=article.check_etag,
        last_modified=article.check_last_modified,
        failures=decision.failures,
        error=str(exc),
    )


def first_failure(
    settings: Settings, feed: FeedSettings, key: str, exc: FetchError, now: datetime
) -> CheckIntent:
    """The page of a new article failed (it is versioned from its feed's
    text meanwhile): tried again after the feed's interval, backed off."""
    when = next_poll(
        now,
        settings.feed_interval(feed),
        key=key,
        failures=1,
        max_backoff=settings.scheduler.max_backoff,
    )
    return CheckIntent(next_check_at=when, unchanged_checks=0, failures=1, error=str(exc))
