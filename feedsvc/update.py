"""One source's poll: read -> decide -> store.

The Updater polls one claimed source (or checks one claimed article page):
it reads it (feedsvc.reading), decides what is new, and writes that in one
transaction. Claiming, the pool of polls in flight and lease renewal are the
scheduler's (feedsvc.pool). The clock is injected and read once per poll or
check: that `now` is the poll's time throughout. It never imports Flask.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsvc import checks, isolation, schedule
from feedsvc.config import FeedSettings, Settings
from feedsvc.deciding import version_of
from feedsvc.errors import FeedsvcError, FetchError, FetchRefused, NotFound, ParseError
from feedsvc.extract import Rules
from feedsvc.fetch import Fetcher
from feedsvc.fetch_policy import policy_for
from feedsvc.models import (
    ArticleForCheck,
    ArticleForUpdate,
    ArticleIntent,
    CheckIntent,
    EntryData,
    FetchResult,
    PollOutcome,
    SourceForUpdate,
    VersionIntent,
)
from feedsvc.reading import Found, Reader, is_url
from feedsvc.revisions import (
    developing_markers,
)
from feedsvc.schedule import (
    developing_source_delay,
    entry_fingerprint,
    next_poll,
)
from feedsvc.storage import LeaseLost, UpdaterStore, WriteConflict

log = logging.getLogger("feedsvc.update")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _nothing() -> None:
    pass


class Updater:
    def __init__(
        self,
        settings: Settings,
        store: UpdaterStore,
        fetcher: Fetcher | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.fetcher = fetcher or Fetcher(
            settings.user_agent,
            timeout=settings.fetch.timeout,
            connect_timeout=settings.fetch.connect_timeout,
            max_bytes=settings.fetch.max_bytes,
            per_host=settings.scheduler.per_host,
            max_hold=settings.scheduler.max_backoff,
            clock=clock,
            policy=policy_for(settings),
        )
        self.reader = Reader(settings, self.fetcher)
        self.markers = developing_markers(settings.scheduler.developing_markers)
        isolation.configure(isolation.limits_from(settings.fetch))  # parsing's child processes

    def apply_settings(self, settings: Settings) -> None:
        """A reloaded config: feeds, intervals, markers and the parsing
        limits apply from the next poll on (the HTTP client keeps its limits
        until a restart)."""
        self.markers = developing_markers(settings.scheduler.developing_markers)
        isolation.configure(isolation.limits_from(settings.fetch))
        self.fetcher.set_policy(policy_for(settings))  # new sources' origins, allow_networks
        self.settings = settings
        self.reader.settings = settings

    def close(self) -> None:
        self.reader.close()

    # -- many at once: the pool lives in feedsvc.pool; these are its short forms --

    def poll(self, owner: str, **options: Any) -> list[PollOutcome]:
        """feedsvc.pool.poll_sources with this updater."""
        from feedsvc.pool import poll_sources

        return poll_sources(self, owner, **options)

    def check_articles(self, owner: str, **options: Any) -> list[PollOutcome]:
        """feedsvc.pool.check_articles with this updater."""
        from feedsvc.pool import check_articles

        return check_articles(self, owner, **options)

    # -- one source ----------------------------------------------------------

    def poll_source(
        self,
        source: SourceForUpdate,
        *,
        everything: bool = False,
        fetched: Callable[[], None] = _nothing,
    ) -> PollOutcome:
        """Poll one claimed source. Whatever goes wrong harms only this
        source: it is recorded, backed off and reported, never raised.
        `fetched` is called once its request is answered (or failed): the
        scheduler's per-host limit counts requests, not parsing."""
        try:
            feed = self.settings.feed(source.feed)
        except NotFound:
            self.store.release_source(source)
            return PollOutcome(source.id, source.feed, source.locator, error="feed not configured")
        now = self.clock()
        try:
            outcome = self._poll(source, feed, now, everything=everything, fetched=fetched)
        except LeaseLost as exc:
            outcome = PollOutcome(source.id, source.feed, source.locator, error=str(exc))
        except WriteConflict as exc:
            # Nothing was written and the schedule is as it was: let go of
            # the source so that the next tick polls it again.
            with contextlib.suppress(Exception):
                self.store.release_source(source)
            outcome = PollOutcome(source.id, source.feed, source.locator, error=str(exc))
        except FeedsvcError as exc:
            outcome = self._failed(source, feed, exc, now)
        except Exception as exc:  # a bug must not stop the other sources
            log.exception("poll %s %s: unexpected error", source.feed, source.locator)
            outcome = self._failed(source, feed, exc, now)
        self._log(outcome)
        return outcome

    def _failed(
        self, source: SourceForUpdate, feed: FeedSettings, exc: Exception, now: datetime
    ) -> PollOutcome:
        message = str(exc) if isinstance(exc, FeedsvcError) else f"{type(exc).__name__}: {exc}"
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        gone = isinstance(exc, FetchError) and exc.gone
        page = self._failed_page(source, feed, exc, now)
        if page is not None and page[1].next_check_at is not None:
            when = page[1].next_check_at  # a page source's polls are its page's checks
        else:
            when = next_poll(
                now,
                self.settings.feed_interval(feed),
                key=source.locator,
                failures=source.failures + 1,
                retry_after=retry_after,
                max_backoff=self.settings.scheduler.max_backoff,
            )
        with contextlib.suppress(LeaseLost):  # another worker owns it now
            self.store.fail_poll(source, now, message, when, gone=gone, page=page)
        return PollOutcome(source.id, source.feed, source.locator, error=message)

    def _failed_page(
        self, source: SourceForUpdate, feed: FeedSettings, exc: Exception, now: datetime
    ) -> tuple[str, CheckIntent] | None:
        """A page source's failed poll is its page's failed check: a 404 or
        410 is a "gone" event in the article's history, other errors back
        the page off (the source is its only checker: see PAGE_SOURCE)."""
        if not isinstance(exc, FeedsvcError):
            return None
        article = self._own_article(source)
        if article is None:
            return None
        return article.id, checks.after_failure(self.settings, article, feed, exc, now)

    def _own_article(self, source: SourceForUpdate) -> ArticleForUpdate | None:
        """The article a page source is (stored under its locator); None for
        a feed, without a read when the claim says it is not a page."""
        if source.page is False:
            return None
        return self.store.get_articles_for_update(source.feed, [source.locator]).get(source.locator)

    def _poll(
        self,
        source: SourceForUpdate,
        feed: FeedSettings,
        now: datetime,
        *,
        everything: bool = False,
        fetched: Callable[[], None] = _nothing,
    ) -> PollOutcome:
        result: FetchResult | None = None
        if is_url(source.url):
            try:
                result = self.reader.fetch(
                    source.url, etag=source.etag, last_modified=source.last_modified
                )
            finally:
                fetched()
            # The poll's time is when the answer came: counted from there,
            # the upstream never sees two polls closer than the interval.
            now = result.fetched_at
            if result.not_modified:
                unchanged = self._unchanged_page_source(source, feed, result, now)
                return self._finish(source, feed, unchanged, result, now, not_modified=True)

            def article_of(key: str) -> ArticleForUpdate | None:
                return self.store.get_articles_for_update(source.feed, [key]).get(key)

            found = self.reader.read_response(result, source.locator, feed, article_of)
            if found.follow_links:
                found = replace(found, everything=everything)
        else:
            found = self.reader.read_local(source.url, Rules.of(feed))
        intents, notes = self.intents(source.feed, feed, found, now)
        return self._finish(source, feed, intents, result, now, notes=[*found.feed.notes, *notes])

    def _unchanged_page_source(
        self, source: SourceForUpdate, feed: FeedSettings, result: FetchResult, now: datetime
    ) -> list[ArticleIntent]:
        """A source that answered 304: if it is an article page, the check
        that found nothing new (it climbs its ladder); nothing for a feed,
        and no read when the claim said it is not a page."""
        article = self._own_article(source)
        if article is None:
            return []
        check = checks.after_check(
            self.settings, article, None, result, feed, now, page_source=True
        )
        return [ArticleIntent(article.key, article.url, None, None, check=check)]

    def _finish(
        self,
        source: SourceForUpdate,
        feed: FeedSettings,
        intents: Sequence[ArticleIntent],
        result: FetchResult | None,
        now: datetime,
        *,
        not_modified: bool = False,
        notes: Sequence[str] = (),
    ) -> PollOutcome:
        page_next = _page_source_next(source, intents)
        if page_next is not None:
            # A page source: its polls are its page's checks, on the ladder.
            when = page_next
        else:
            interval = self.settings.feed_interval(feed)
            when = next_poll(now, interval, key=source.locator)
            cheap = not_modified and _on_its_interval(source, interval)
            if not feed.fetch_articles and not cheap:
                when = min(when, self._developing_poll(source, feed, intents, now) or when)
        # Kept as the source's last_error with no failure counted: the poll
        # worked, but /healthz and the log should say what it left out.
        warning = "; ".join(notes) or None
        etag = source.etag
        last_modified = source.last_modified
        if result is not None:
            etag = result.etag or (etag if not_modified else None)
            last_modified = result.last_modified or (last_modified if not_modified else None)
        new_articles, new_versions = self.store.finish_poll(
            source,
            now,
            intents,
            when,
            etag=etag,
            last_modified=last_modified,
            url=result.permanent_url if result is not None else None,
            error=warning,
            track_dropped=feed.fetch_articles and not not_modified,
        )
        return PollOutcome(
            source.id,
            source.feed,
            source.locator,
            new_articles=new_articles,
            new_versions=new_versions,
            not_modified=not_modified,
            error=None,
            warning=warning,
        )

    def _developing_poll(
        self,
        source: SourceForUpdate,
        feed: FeedSettings,
        intents: Sequence[ArticleIntent],
        now: datetime,
    ) -> datetime | None:
        """A source whose articles are its own text (feed summaries, local
        files) is polled sooner while one of them is a developing story."""
        sched = self.settings.scheduler
        fresh = any(
            i.version and i.version.developing and not i.version.suspect and i.check is None
            for i in intents
        )
        window_start = now - timedelta(seconds=sched.developing_window)
        last = now if fresh else self.store.get_last_developing_change(source.id, window_start)
        if last is None:
            return None
        gap = developing_source_delay(
            (now - last).total_seconds(),
            sched.developing_interval,
            self.settings.feed_interval(feed),
        )
        return now + timedelta(seconds=gap)

    # -- deciding ------------------------------------------------------------

    def intents(
        self, feed_name: str, feed: FeedSettings, found: Found, now: datetime
    ) -> tuple[list[ArticleIntent], list[str]]:
        """Decide, for each entry found, whether it is a new version.
        Returns the intents and notes on what was held back: entries whose
        new id repeats a stored article's text (a feed that changes its ids
        on every poll), and new articles over the per-poll cap."""
        entries = _unique(found.feed.entries)
        known = self.store.get_articles_for_update(feed_name, (e.key for e in entries))
        intents: list[ArticleIntent] = []
        new_entries: list[EntryData] = []
        for entry in entries:
            article = known.get(entry.key)
            if article is None:
                new_entries.append(entry)
                continue
            intent = self._intent(entry, article, feed, found, now)
            if intent is None:
                continue
            based_on = article.latest.number if article.latest else 0
            intents.append(replace(intent, based_on=based_on))

        # New articles, in feed order, up to the cap. Decided a chunk at a
        # time (with fetch_articles each costs a page fetch), skipping those
        # whose text is already stored under another id.
        cap = self.settings.scheduler.max_new_articles
        accepted: list[ArticleIntent] = []
        repeated = taken = 0
        while taken < len(new_entries) and len(accepted) < cap:
            chunk = new_entries[taken : taken + cap - len(accepted)]
            taken += len(chunk)
            decided = [
                i for e in chunk if (i := self._intent(e, None, feed, found, now)) is not None
            ]
            repeats = self.store.find_latest_hashes(
                feed_name, [i.version.sha256 for i in decided if i.version]
            )
            for intent in decided:
                if intent.version and intent.version.sha256 in repeats:
                    repeated += 1
                else:
                    accepted.append(replace(intent, based_on=0))
        notes = []
        if repeated:
            notes.append(
                f"{repeated} entries under new ids repeat stored articles word for word "
                "(the feed changes its ids?); not added again"
            )
        if taken < len(new_entries):
            notes.append(
                f"{len(new_entries) - taken} new articles over max_new_articles ({cap}) "
                "wait for the next poll"
            )
        return intents + accepted, notes

    def _intent(
        self,
        entry: EntryData,
        article: ArticleForUpdate | None,
        feed: FeedSettings,
        found: Found,
        now: datetime,
    ) -> ArticleIntent | None:
        fingerprint = entry_fingerprint(entry)
        if found.follow_links and entry.url:
            intent = self._linked_page_intent(entry, article, feed, found, fingerprint, now)
        else:
            intent = self._entry_intent(entry, article, feed, found, now)
        return replace(intent, entry_sha256=fingerprint) if intent is not None else None

    def _entry_intent(
        self,
        entry: EntryData,
        article: ArticleForUpdate | None,
        feed: FeedSettings,
        found: Found,
        now: datetime,
    ) -> ArticleIntent | None:
        page = found.pages.get(entry.key)
        evidence = found.evidence.get(entry.key, found.shared)
        suspect = page.suspect if page else False
        version = version_of(entry, article, feed, evidence, self.markers, suspect=suspect)
        if article is None and version is None:
            return None
        check = None
        if page is not None:  # a page source
            check = checks.after_check(
                self.settings, article, version, page.result, feed, now, page_source=True
            )
        return ArticleIntent(entry.key, entry.url, entry.published, version, check=check)

    def _linked_page_intent(
        self,
        entry: EntryData,
        article: ArticleForUpdate | None,
        feed: FeedSettings,
        found: Found,
        fingerprint: str,
        now: datetime,
    ) -> ArticleIntent | None:
        """fetch_articles: the entry's page, extracted, is the article's text;
        the feed's title and dates still count. The page is fetched now if
        the entry is new or changed in the feed (else it waits for its own
        check, on its ladder). A page that failed harms only its own
        article; a new article whose page fails waits for the next poll."""
        assert entry.url is not None
        seen = ArticleIntent(entry.key, entry.url, entry.published, None)
        if article is not None and not schedule.check_with_feed(
            status=article.status,
            stored_entry=article.entry_sha256,
            entry=fingerprint,
            everything=found.everything,
        ):
            return seen
        try:
            page = self.reader.read_page(
                entry.url,
                entry.key,
                feed,
                article,
                etag=article.check_etag if article else None,
                last_modified=article.check_last_modified if article else None,
            )
        except ParseError as exc:
            if article is None:
                # Not an article page (a PDF, a video): the feed's own text
                # is all there is, so the new entry is versioned from it.
                log.info("article page %s: %s; using the feed's text", entry.url, exc)
                return self._entry_intent(entry, None, feed, found, now)
            return replace(seen, check=checks.after_failure(self.settings, article, feed, exc, now))
        except FetchRefused as exc:
            if article is None:
                # The link leads where the fetch policy forbids: the feed's
                # own text is versioned and the refusal is the article's
                # error (on /healthz), retried with backoff like any other.
                log.warning("article page %s: %s", entry.url, exc)
                intent = self._entry_intent(entry, None, feed, found, now)
                return intent and replace(
                    intent, check=checks.first_failure(self.settings, feed, entry.key, exc, now)
                )
            return replace(seen, check=checks.after_failure(self.settings, article, feed, exc, now))
        except FetchError as exc:
            if article is None:
                log.warning("article page %s: %s (will retry)", entry.url, exc)
                return None
            return replace(seen, check=checks.after_failure(self.settings, article, feed, exc, now))
        version = None
        if page.entry is not None:
            merged = replace(
                page.entry,
                key=entry.key,
                title=page.entry.title or entry.title,  # the page is the authority
                url=entry.url,
                published=entry.published or page.entry.published,
                # the date the page gives itself first (a check of the page
                # alone sees only that one), then the feed entry's
                updated=page.entry.updated or page.entry.published or entry.updated,
                author=entry.author or page.entry.author,
            )
            version = version_of(
                merged, article, feed, page.evidence, self.markers, suspect=page.suspect
            )
        if article is None and version is None:
            return None
        check = checks.after_check(self.settings, article, version, page.result, feed, now)
        return replace(seen, version=version, check=check)

    def check_article(
        self, claim: ArticleForCheck, *, fetched: Callable[[], None] = _nothing
    ) -> PollOutcome:
        """Fetch one claimed article's page and store what it shows: a new
        version, nothing, or an event (gone, moved). Never raises.
        `fetched`: as for poll_source."""
        a = claim.article
        where = a.url or a.key
        now = self.clock()
        try:
            feed = self.settings.feed(claim.feed)
        except NotFound:
            self.store.release_article(a.id, claim.lease_owner)
            return PollOutcome(claim.source_id, claim.feed, where, error="feed not configured")
        try:
            if feed.fetch_articles:
                try:
                    version, check = self._check_page(claim, feed, now)
                finally:
                    fetched()
            else:
                # fetch_articles was turned off: its text comes from the feed
                # now, so its page is no longer followed on its own.
                version, check = None, CheckIntent(None, a.unchanged_checks)
            added = self.store.finish_check(claim, now, version, check)
        except LeaseLost as exc:
            return PollOutcome(claim.source_id, claim.feed, where, error=str(exc))
        except WriteConflict as exc:
            # A poll of its feed stored a version meanwhile: nothing of this
            # check was written; let go, and the next tick checks it again.
            self.store.release_article(a.id, claim.lease_owner)
            return PollOutcome(claim.source_id, claim.feed, where, error=str(exc))
        except Exception as exc:  # a bug must not stop the other checks
            log.exception("check %s %s: unexpected error", claim.feed, where)
            self.store.release_article(a.id, claim.lease_owner)
            return PollOutcome(claim.source_id, claim.feed, where, error=repr(exc))
        outcome = PollOutcome(
            claim.source_id,
            claim.feed,
            where,
            new_versions=added,
            not_modified=version is None and check.error is None,
            error=check.error,
        )
        if check.error:
            log.warning("check %s %s: error: %s", claim.feed, where, check.error)
        elif added or check.event:
            log.info("check %s %s: %s", claim.feed, where, check.event or f"{added} new versions")
        else:  # most checks: shown with -v
            log.debug("check %s %s: nothing new", claim.feed, where)
        return outcome

    def _check_page(
        self, claim: ArticleForCheck, feed: FeedSettings, now: datetime
    ) -> tuple[VersionIntent | None, CheckIntent]:
        a = claim.article
        assert a.url is not None
        try:
            page = self.reader.read_page(
                a.url, a.key, feed, a, etag=a.check_etag, last_modified=a.check_last_modified
            )
        except (FetchError, ParseError) as exc:
            return None, checks.after_failure(self.settings, a, feed, exc, now)
        if page.result.url != a.url:
            other = self.store.find_article_at(claim.feed, page.result.url, other_than=a.id)
            if other is not None:
                detail = f"{a.url} now redirects to {page.result.url} (article {other})"
                check = CheckIntent(
                    None, a.unchanged_checks, status="moved", event=("moved", detail)
                )
                return None, check
        version = None
        if page.entry is not None:
            entry = page.entry
            if not entry.title.strip() and a.latest is not None:
                entry = replace(entry, title=a.latest.title)  # a page without a headline
            version = version_of(
                entry, a, feed, page.evidence, self.markers, suspect=page.suspect, page_alone=True
            )
        in_feed = claim.status == "active"
        check = checks.after_check(
            self.settings, a, version, page.result, feed, now, in_feed=in_feed
        )
        return version, check

    def _log(self, outcome: PollOutcome) -> None:
        if outcome.not_modified and not outcome.error and not outcome.warning:
            # Most polls of a large setup: shown with -v; the scheduler's
            # periodic summary line counts them.
            log.debug("poll %s %s: not modified", outcome.feed, outcome.locator)
            return
        where = f"poll {outcome.feed} {outcome.locator}"
        if outcome.error:
            log.warning("%s: error: %s", where, outcome.error)
        else:
            log.info(
                "%s: %d new articles, %d new versions",
                where,
                outcome.new_articles,
                outcome.new_versions,
            )
        if outcome.warning:
            log.warning("%s: warning: %s", where, outcome.warning)


def _page_source_next(source: SourceForUpdate, intents: Sequence[ArticleIntent]) -> datetime | None:
    """A page source's page is checked by polling the source: its next
    check (the page's ladder) is the source's next poll, so the two fall
    together and a tick's poll moves both. None for any other source."""
    for intent in intents:
        if intent.key == source.locator and intent.check is not None:
            return intent.check.next_check_at
    return None


def _on_its_interval(source: SourceForUpdate, interval: float) -> bool:
    """Was the source's last poll a success that set no sooner poll for a
    developing story? Then an unchanged answer now cannot have started
    one, and the cheap unchanged path skips looking for one."""
    if source.failures or source.due_at is None or source.last_polled_at is None:
        return False
    return (source.due_at - source.last_polled_at).total_seconds() > interval


def _unique(entries: Iterable[EntryData]) -> list[EntryData]:
    """First occurrence of each key: a feed that lists an entry twice is one
    article, not a revision against itself."""
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.key not in seen:
            seen.add(e.key)
            out.append(e)
    return out
