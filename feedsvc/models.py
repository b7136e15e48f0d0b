"""Plain frozen data that flows through the pipeline.

The names say where the data moves: `*Data` comes from upstream (a feed, a
page, a file), `*ForUpdate` comes from storage to the updater, `*Intent` goes
from the updater to storage, `*Row` comes from storage to the web side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FetchResult:
    """One upstream answer. A 304 is an ordinary result (`not_modified`)."""

    url: str  # after redirects
    status: int
    fetched_at: datetime
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    permanent_url: str | None = None  # where a 301/308 said the source now lives
    request_headers: Mapping[str, str] = field(default_factory=dict)  # as sent, for WARC

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class EntryData:
    """One article as an upstream shows it, before normalisation."""

    key: str  # upstream identity: guid / atom:id, else link, else path
    title: str
    url: str | None = None
    html: str = ""  # the article body as upstream HTML (untrusted)
    text: str | None = None  # plain text when the source has no HTML
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    extractor: str | None = None  # "feedparser 6.0", "trafilatura 2.3", ...


@dataclass(frozen=True)
class FeedData:
    """What one poll of a source found: zero or more articles."""

    title: str | None
    link: str | None
    entries: tuple[EntryData, ...]
    # What was wrong with the document but did not stop it being read
    # ("not well-formed XML, read leniently", "only the first 1000 entries").
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """The raw response a version was made from, so it can be cited later."""

    url: str
    fetched_at: datetime
    status: int
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    extractor: str | None = None
    # The HTTP exchange as it happened (names lower-case), for WARC export.
    # None for local files and for evidence stored before they were kept.
    request_headers: Mapping[str, str] | None = None
    response_headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class SourceForUpdate:
    id: int
    feed: str
    locator: str  # as configured
    url: str  # where it is fetched now (a remembered 301 changes this)
    etag: str | None
    last_modified: str | None
    failures: int
    lease_owner: str
    due_at: datetime | None = None  # its next_poll_at when it was claimed
    last_polled_at: datetime | None = None
    # Is it an article page (its own article stored under its locator)?
    # Told by the batch claim, so that a 304 of a feed reads no article;
    # None: not known, the updater looks it up.
    page: bool | None = None


@dataclass(frozen=True)
class LatestVersion:
    number: int
    title: str
    text: str
    sha256: str
    seen_at: datetime
    page_date: datetime | None = None  # the page's own modified date, if it has one


@dataclass(frozen=True)
class ArticleForUpdate:
    id: str
    key: str
    latest: LatestVersion | None
    known_hashes: Mapping[str, int]  # sha256 -> first version number with it
    # Article-page checks (page sources, fetch_articles; schedule.py decides):
    url: str | None = None
    developing: bool = False
    updated_at: datetime | None = None  # when the latest published version was seen
    next_check_at: datetime | None = None
    unchanged_checks: int = 0
    check_etag: str | None = None
    check_last_modified: str | None = None
    check_failures: int = 0
    status: str = "active"  # active, dropped (left its feed), stopped, gone, moved
    entry_sha256: str | None = None  # its feed entry's fingerprint when last seen


@dataclass(frozen=True)
class ArticleForCheck:
    """An article claimed for a check of its page (due on its schedule, or
    listed by a feed that `feedsvc poll` looks at now), leased like a source.
    Never a page source's: its source's polls are its checks."""

    feed: str
    source_id: int
    status: str  # active (still in its source) or dropped (left it)
    article: ArticleForUpdate
    lease_owner: str


@dataclass(frozen=True)
class CheckIntent:
    """The updater's word on an article page's polling state after a fetch."""

    next_check_at: datetime | None  # None: no page polling of its own
    unchanged_checks: int
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    error: str | None = None
    status: str | None = None  # gone, moved, stopped; None keeps the status
    event: tuple[str, str | None] | None = None  # (kind, detail) for the history


@dataclass(frozen=True)
class VersionIntent:
    """A revision the updater decided to store."""

    title: str
    text: str  # normalised plain text, paragraphs separated by a blank line
    html: str  # sanitised HTML
    sha256: str
    words: int
    words_added: int
    words_removed: int
    change_class: str  # initial, append, edit, headline, correction, deletion, revert
    revert_of: int | None = None
    developing: bool = False
    author: str | None = None
    evidence: Evidence | None = None
    suspect: bool = False  # the extraction guard's doubt: kept out of feeds
    stealth: bool = False  # substance changed without a notice (feedsvc.changes)
    page_date: datetime | None = None  # the page's own modified date, if it has one


@dataclass(frozen=True)
class ArticleIntent:
    """An article seen in a poll, with the version to add (if any)."""

    key: str
    url: str | None
    published: datetime | None
    version: VersionIntent | None
    # The latest version number the decision was made against (0: a new
    # article). If storage holds another by the time of the write, someone
    # else wrote this article meanwhile and the poll must be decided again.
    # None: not checked.
    based_on: int | None = None
    check: CheckIntent | None = None
    entry_sha256: str | None = None  # the entry's fingerprint in this poll (None: keep)


@dataclass(frozen=True)
class PollOutcome:
    source_id: int
    feed: str
    locator: str
    new_articles: int = 0
    new_versions: int = 0
    not_modified: bool = False
    error: str | None = None
    # A successful poll that could not take everything: new articles held
    # back by max_new_articles, entries skipped, a feed read leniently.
    warning: str | None = None


@dataclass(frozen=True)
class SourceRow:
    """A source's poll state, as /healthz and the CLI show it."""

    id: int
    feed: str
    locator: str
    url: str
    active: bool
    gone: bool
    next_poll_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    failures: int
    last_error: str | None
    etag: str | None
    last_modified: str | None
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class VersionRow:
    """One stored version. `text` and `html` are empty when only the
    metadata was loaded (the history list of a feed entry, say)."""

    article_id: str
    number: int
    seen_at: datetime
    title: str
    sha256: str
    words: int
    words_added: int
    words_removed: int
    change_class: str
    revert_of: int | None
    developing: bool
    suspect: bool
    author: str | None = None
    text: str = ""
    html: str = ""
    raw_id: int | None = None
    stealth: bool = False


@dataclass(frozen=True)
class ArticleRow:
    id: str
    feed: str
    key: str
    url: str | None
    first_seen_at: datetime
    published_at: datetime | None
    updated_at: datetime
    latest_version: int
    developing: bool
    status: str
    next_check_at: datetime | None = None  # when its page is checked next, if on its own


@dataclass(frozen=True)
class EntryView:
    """An article with what a feed entry shows: the latest published version
    in full and every version's metadata, oldest first."""

    article: ArticleRow
    latest: VersionRow
    history: tuple[VersionRow, ...]


@dataclass(frozen=True)
class RevisionView:
    """One version with the one before it (None for a first version), both
    with their text: what an entry of a revisions feed shows."""

    article: ArticleRow
    version: VersionRow
    previous: VersionRow | None


@dataclass(frozen=True)
class FeedStats:
    """Counts behind /metrics for one feed."""

    feed: str
    sources: int
    failing: int
    gone: int
    articles: int
    developing: int
    versions: int
    suspect: int
    last_change: datetime | None


@dataclass(frozen=True)
class ArticleSummary:
    """An article with its latest title: one item of an API article list."""

    article: ArticleRow
    title: str


@dataclass(frozen=True)
class ExportedVersion:
    """One version with the article facts an export line carries."""

    feed: str
    url: str | None
    version: VersionRow
