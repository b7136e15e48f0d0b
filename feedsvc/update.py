"""One source's poll: fetch -> parse / extract -> normalise -> decide -> store.

The Updater is the pipeline's only orchestrator. It never imports Flask; the
scheduler and the command line call it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from feedsvc import charset, local
from feedsvc.config import FeedSettings, Settings
from feedsvc.errors import FeedsvcError, FetchError, ParseError
from feedsvc.extract import EXTRACTOR, extract_article
from feedsvc.fetch import Fetcher
from feedsvc.leases import dead_here
from feedsvc.models import (
    ArticleForUpdate,
    ArticleIntent,
    EntryData,
    Evidence,
    FeedData,
    FetchResult,
    PollOutcome,
    SourceForUpdate,
    VersionIntent,
)
from feedsvc.parse import EXTRACTOR as PARSER
from feedsvc.parse import looks_like_feed, parse_feed
from feedsvc.revisions import (
    decide,
    developing_markers,
    is_developing,
    normalise,
    normalise_title,
    word_count,
)
from feedsvc.schedule import next_poll
from feedsvc.storage import LeaseLost, Store, WriteConflict
from feedsvc.text import html_to_text, sanitize_html, text_to_html

log = logging.getLogger("feedsvc.update")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_url(locator: str) -> bool:
    return urlsplit(locator).scheme in ("http", "https")


def decode_html(result: FetchResult) -> str:
    """A fetched page as text: charset from the header, a BOM or the page."""
    return charset.decode_html(result.body, result.headers.get("content-type"))


@dataclass(frozen=True)
class Found:
    """What a source's poll found, before any decision."""

    feed: FeedData
    evidence: dict[str, Evidence]  # by entry key; missing -> `shared`
    shared: Evidence | None = None


class Updater:
    def __init__(
        self,
        settings: Settings,
        store: Store,
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
            clock=clock,
        )
        self.markers = developing_markers(settings.scheduler.developing_markers)

    def close(self) -> None:
        self.fetcher.close()

    # -- many sources --------------------------------------------------------

    def poll(
        self,
        owner: str,
        *,
        feed: str | None = None,
        due_only: bool = True,
        limit: int = 1000,
        progress: Callable[[PollOutcome], None] | None = None,
    ) -> list[PollOutcome]:
        """Poll sources (the due ones, or all of them) in a bounded pool.
        Each is claimed just before its poll, so a lease never runs down
        while the source waits in a queue, and a worker takes only what it
        can poll now. Returns one outcome per source polled (at most
        `limit`); sources another process holds are skipped."""
        now = self.clock()
        dead = [o for o in self.store.lease_owners(now) if dead_here(o)]
        if dead:
            log.info("dropping leases of dead processes: %s", ", ".join(sorted(dead)))
            self.store.release_leases(dead)
        if due_only:
            claims: Callable[[], SourceForUpdate | None] = self._next_due(owner, feed)
            threads = self.settings.scheduler.concurrency
        else:
            claims = self._each_of(
                self.store.candidate_sources(now, limit=limit, feed=feed, due_only=False), owner
            )
            threads = max(1, min(self.settings.scheduler.concurrency, limit))
        return _Run(self, owner, claims, limit, progress).run(threads)

    def _lease_until(self) -> datetime:
        return self.clock() + timedelta(seconds=self.settings.scheduler.lease)

    def _next_due(self, owner: str, feed: str | None) -> Callable[[], SourceForUpdate | None]:
        def claim() -> SourceForUpdate | None:
            return self.store.claim_next_source(self.clock(), owner, self._lease_until(), feed=feed)

        return claim

    def _each_of(self, ids: list[int], owner: str) -> Callable[[], SourceForUpdate | None]:
        pending = list(reversed(ids))
        lock = threading.Lock()

        def claim() -> SourceForUpdate | None:
            while True:
                with lock:
                    if not pending:
                        return None
                    source_id = pending.pop()
                source = self.store.claim_source(
                    source_id, self.clock(), owner, self._lease_until(), due_only=False
                )
                if source is not None:
                    return source  # else another process holds it: next one

        return claim

    # -- one source ----------------------------------------------------------

    def poll_source(self, source: SourceForUpdate) -> PollOutcome:
        """Poll one claimed source. Whatever goes wrong harms only this
        source: it is recorded, backed off and reported, never raised."""
        try:
            feed = self.settings.feed(source.feed)
        except KeyError:
            self.store.release_source(source)
            return PollOutcome(source.id, source.feed, source.locator, error="feed not configured")
        try:
            outcome = self._poll(source, feed)
        except LeaseLost as exc:
            outcome = PollOutcome(source.id, source.feed, source.locator, error=str(exc))
        except WriteConflict as exc:
            # Nothing was written and the schedule is as it was: let go of
            # the source so that the next tick polls it again.
            with contextlib.suppress(Exception):
                self.store.release_source(source)
            outcome = PollOutcome(source.id, source.feed, source.locator, error=str(exc))
        except FeedsvcError as exc:
            outcome = self._failed(source, feed, exc)
        except Exception as exc:  # a bug must not stop the other sources
            log.exception("poll %s %s: unexpected error", source.feed, source.locator)
            outcome = self._failed(source, feed, exc)
        self._log(outcome)
        return outcome

    def _failed(self, source: SourceForUpdate, feed: FeedSettings, exc: Exception) -> PollOutcome:
        now = self.clock()
        message = str(exc) if isinstance(exc, FeedsvcError) else f"{type(exc).__name__}: {exc}"
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        gone = isinstance(exc, FetchError) and exc.gone
        when = next_poll(
            now,
            self.settings.feed_interval(feed),
            key=source.locator,
            failures=source.failures + 1,
            retry_after=retry_after,
            max_backoff=self.settings.scheduler.max_backoff,
        )
        with contextlib.suppress(LeaseLost):  # another worker owns it now
            self.store.fail_poll(source, now, message, when, gone=gone)
        return PollOutcome(source.id, source.feed, source.locator, error=message)

    def _poll(self, source: SourceForUpdate, feed: FeedSettings) -> PollOutcome:
        result: FetchResult | None = None
        if is_url(source.url):
            result = self.fetcher.get(
                source.url, etag=source.etag, last_modified=source.last_modified
            )
            if result.not_modified:
                return self._finish(source, feed, [], result, not_modified=True)
            found = self._read_response(source, feed, result)
        else:
            data, evidence = local.read_path(
                Path(source.url), self.settings.fetch.max_bytes, self.settings.base_dir
            )
            found = Found(data, evidence)
        intents, capped = self.intents(source.feed, feed, found)
        return self._finish(source, feed, intents, result, capped=capped)

    def _read_response(
        self, source: SourceForUpdate, feed: FeedSettings, result: FetchResult
    ) -> Found:
        def evidence(extractor: str) -> Evidence:
            return Evidence(
                url=result.url,
                fetched_at=result.fetched_at,
                status=result.status,
                body=result.body,
                etag=result.etag,
                last_modified=result.last_modified,
                content_type=result.headers.get("content-type"),
                extractor=extractor,
            )

        if looks_like_feed(result.body, result.content_type):
            data = parse_feed(result.body, result.url, result.headers)
            return Found(data, {}, evidence(PARSER))
        if result.content_type in ("text/html", "application/xhtml+xml", ""):
            entry = extract_article(decode_html(result), result.url, key=source.locator)
            return Found(FeedData(entry.title, result.url, (entry,)), {}, evidence(EXTRACTOR))
        raise ParseError(f"{result.url}: neither a feed nor a web page ({result.content_type})")

    def _finish(
        self,
        source: SourceForUpdate,
        feed: FeedSettings,
        intents: Sequence[ArticleIntent],
        result: FetchResult | None,
        *,
        not_modified: bool = False,
        capped: int = 0,
    ) -> PollOutcome:
        now = self.clock()
        when = next_poll(now, self.settings.feed_interval(feed), key=source.locator)
        warning = (
            f"{capped} new articles over max_new_articles wait for the next poll"
            if capped
            else None
        )
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
        )
        return PollOutcome(
            source.id,
            source.feed,
            source.locator,
            new_articles=new_articles,
            new_versions=new_versions,
            not_modified=not_modified,
            error=None,
        )

    # -- deciding ------------------------------------------------------------

    def intents(
        self, feed_name: str, feed: FeedSettings, found: Found
    ) -> tuple[list[ArticleIntent], int]:
        """Decide, for each entry found, whether it is a new version.
        Returns the intents and how many new articles were held back by the
        per-poll cap."""
        entries = _unique(found.feed.entries)
        known = self.store.articles_for_update(feed_name, (e.key for e in entries))
        intents: list[ArticleIntent] = []
        new_allowed = self.settings.scheduler.max_new_articles
        capped = 0
        for entry in entries:
            article = known.get(entry.key)
            if article is None and new_allowed == 0:
                capped += 1
                continue
            version = self.decide_entry(
                entry, article, feed, found.evidence.get(entry.key, found.shared)
            )
            if article is None and version is None:
                continue
            if article is None:
                new_allowed -= 1
            based_on = article.latest.number if article and article.latest else 0
            intents.append(
                ArticleIntent(entry.key, entry.url, entry.published, version, based_on=based_on)
            )
        return intents, capped

    def decide_entry(
        self,
        entry: EntryData,
        article: ArticleForUpdate | None,
        feed: FeedSettings,
        evidence: Evidence | None,
    ) -> VersionIntent | None:
        raw_text = entry.text if entry.text is not None else html_to_text(entry.html)
        text = normalise(raw_text, feed.ignore)
        title = normalise_title(entry.title) or _title_from(text)
        if not text and not title:
            return None
        latest = article.latest if article else None
        known = article.known_hashes if article else {}
        decision = decide(latest, known, title, text, self.markers)
        if not decision.changed:
            return None
        html = sanitize_html(entry.html) if entry.html.strip() else text_to_html(text)
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
            developing=is_developing(text, self.markers),
            author=entry.author,
            evidence=evidence,
        )

    def _log(self, outcome: PollOutcome) -> None:
        where = f"poll {outcome.feed} {outcome.locator}"
        if outcome.error:
            log.warning("%s: error: %s", where, outcome.error)
        elif outcome.not_modified:
            log.info("%s: not modified", where)
        else:
            log.info(
                "%s: %d new articles, %d new versions",
                where,
                outcome.new_articles,
                outcome.new_versions,
            )


class _Run:
    """One round of polls: `threads` pool threads each claim and poll until
    `claim` has nothing more or `limit` polls were started, while the
    calling thread renews the leases of the polls in flight, so a poll that
    outlives its lease is not taken over by another worker."""

    def __init__(
        self,
        updater: Updater,
        owner: str,
        claim: Callable[[], SourceForUpdate | None],
        limit: int,
        progress: Callable[[PollOutcome], None] | None,
    ) -> None:
        self.updater = updater
        self.owner = owner
        self.claim = claim
        self.budget = limit
        self.progress = progress
        self.lock = threading.Lock()
        self.in_flight: set[int] = set()
        self.outcomes: list[PollOutcome] = []

    def run(self, threads: int) -> list[PollOutcome]:
        lease = self.updater.settings.scheduler.lease
        with ThreadPoolExecutor(threads, thread_name_prefix="poll") as pool:
            futures: list[Future[None]] = [pool.submit(self.work) for _ in range(threads)]
            while True:
                done, running = wait(futures, timeout=lease / 3, return_when=FIRST_EXCEPTION)
                for future in done:
                    future.result()  # a failed claim (database down) ends the round
                if not running:
                    break
                with self.lock:
                    held = list(self.in_flight)
                self.updater.store.renew_leases(self.owner, held, self.updater._lease_until())
        return self.outcomes

    def work(self) -> None:
        while True:
            with self.lock:
                if self.budget <= 0:
                    return
                self.budget -= 1
            source = self.claim()
            if source is None:
                return
            with self.lock:
                self.in_flight.add(source.id)
            try:
                outcome = self.updater.poll_source(source)
            finally:
                with self.lock:
                    self.in_flight.discard(source.id)
            with self.lock:
                self.outcomes.append(outcome)
                if self.progress:
                    self.progress(outcome)


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


def _title_from(text: str) -> str:
    words = text.split()
    return " ".join(words[:12]) + ("…" if len(words) > 12 else "")
