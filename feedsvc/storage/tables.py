"""The schema, in SQLAlchemy Core. Alembic migrations create exactly this,
and the full-text index of storage/search.py (search_fts), which differs by
backend and is kept out of this metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on every backend. SQLite keeps no
    zone, so values are stored as naive UTC and made aware on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per configured source (feed, locator). Its poll state lives here so
# that a restart, or another worker, carries on where the last poll stopped.
sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed", String(64), nullable=False),
    Column("locator", Text, nullable=False),  # as configured
    Column("url", Text, nullable=False),  # current URL (a 301/308 updates it)
    Column("active", Boolean, nullable=False, default=True),  # still in the config
    Column("gone", Boolean, nullable=False, default=False),  # upstream said 410
    Column("next_poll_at", UTCDateTime(), nullable=False),
    Column("last_polled_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime()),
    Column("lease_owner", String(128)),
    Column("lease_until", UTCDateTime()),
    UniqueConstraint("feed", "locator", name="uq_sources_feed_locator"),
)
Index("ix_sources_due", sources.c.next_poll_at)

articles = Table(
    "articles",
    metadata,
    Column("id", String(32), primary_key=True),  # stable: derived from feed and key
    Column("feed", String(64), nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("key", Text, nullable=False),  # upstream identity
    Column("url", Text),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("published_at", UTCDateTime()),  # upstream's own date
    Column("updated_at", UTCDateTime(), nullable=False),  # latest version seen
    Column("last_seen_at", UTCDateTime(), nullable=False),  # last in its source
    Column("latest_version", Integer, nullable=False, default=0),
    Column("developing", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False, default="active"),  # active, gone, stopped
    # Article-page polling (fetch_articles, developing stories, re-checks):
    Column("next_check_at", UTCDateTime()),
    Column("unchanged_checks", Integer, nullable=False, default=0),
    Column("check_etag", Text),
    Column("check_last_modified", Text),
    Column("check_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("lease_owner", String(128)),
    Column("lease_until", UTCDateTime()),
    # What its feed last said of it (schedule.entry_fingerprint): a feed
    # poll checks the page at once when this changes.
    Column("entry_sha256", String(64)),
    UniqueConstraint("feed", "key", name="uq_articles_feed_key"),
)
Index("ix_articles_feed_updated", articles.c.feed, articles.c.updated_at)
Index("ix_articles_next_check", articles.c.next_check_at)
Index("ix_articles_url", articles.c.url)

# The raw answer a version was made from, compressed, kept as evidence.
raws = Table(
    "raws",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),  # of the uncompressed bytes
    Column("url", Text, nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("status", Integer, nullable=False),
    Column("content_type", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("extractor", Text),
    Column("body", LargeBinary, nullable=False),  # zlib
    # The HTTP exchange, as JSON objects of lower-case header names (WARC).
    Column("request_headers", Text),
    Column("response_headers", Text),
)
Index("ix_raws_sha256", raws.c.sha256)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", String(32), ForeignKey("articles.id"), nullable=False),
    Column("number", Integer, nullable=False),  # 1..n, no gaps
    Column("seen_at", UTCDateTime(), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),  # normalised plain text
    Column("html", Text, nullable=False),  # sanitised
    Column("sha256", String(64), nullable=False),  # of normalised title and text
    Column("words", Integer, nullable=False),
    Column("words_added", Integer, nullable=False),
    Column("words_removed", Integer, nullable=False),
    Column("change_class", String(16), nullable=False),
    Column("revert_of", Integer),  # the earlier version number this one repeats
    Column("developing", Boolean, nullable=False, default=False),
    Column("suspect", Boolean, nullable=False, default=False),  # kept out of feeds
    Column("author", Text),
    Column("raw_id", Integer, ForeignKey("raws.id")),
    # A stealth edit: substance changed, no notice, the page's date unmoved
    # (feedsvc.changes). page_date: the page's own modified date, if it has one.
    Column("stealth", Boolean, nullable=False, default=False, server_default=false()),
    Column("page_date", UTCDateTime()),
    UniqueConstraint("article_id", "number", name="uq_versions_article_number"),
)
Index("ix_versions_seen", versions.c.seen_at)
Index("ix_versions_sha256", versions.c.sha256)  # Store.latest_hashes

# Things that happen to an article that are not versions: 404, 410, moved.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", String(32), ForeignKey("articles.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text),
)
Index("ix_events_article", events.c.article_id)

# One row per feed, bumped in the same transaction as any change to the
# feed's data: web nodes compare it to know when a cached rendering is stale.
feed_state = Table(
    "feed_state",
    metadata,
    Column("feed", String(64), primary_key=True),
    Column("serial", Integer, nullable=False, default=0),
    Column("changed_at", UTCDateTime(), nullable=False),
    # WebSub: the serial the hub was last told about, and the retry state
    # of telling it (a failing hub is retried with backoff, apart from ingest).
    Column("pinged_serial", Integer, nullable=False, default=0, server_default="0"),
    Column("ping_failures", Integer, nullable=False, default=0, server_default="0"),
    Column("ping_after", UTCDateTime()),
    Column("ping_error", Text),
)

# Notifications due: one row per (target, channel, version), written in the
# same transaction as the version that causes it (feedsvc/notify/outbox.py),
# claimed with a lease by whichever process delivers it, kept when done.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(64), nullable=False),  # webhook-id: stable across retries
    Column("target", String(64), nullable=False),  # [[notify]] name
    Column("channel", Integer, nullable=False),  # index into the target's urls (0 for a webhook)
    Column("feed", String(64), nullable=False),
    Column("article_id", String(32), ForeignKey("articles.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("state", String(16), nullable=False),  # pending, done, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_attempt_at", UTCDateTime()),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime()),
    Column("lease_owner", String(128)),
    Column("lease_until", UTCDateTime()),
    UniqueConstraint("message_id", name="uq_outbox_message_id"),
)
Index("ix_outbox_due", outbox.c.target, outbox.c.channel, outbox.c.state, outbox.c.next_attempt_at)
