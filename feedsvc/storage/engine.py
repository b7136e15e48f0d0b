"""The database engine, its migrations and the base every part of Store
shares: a connection for reads, a write transaction, chunking of long IN
lists."""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.errors import FeedsvcError
from feedsvc.models import VersionIntent
from feedsvc.storage.serials import SerialReader

MIGRATIONS = Path(__file__).parent / "migrations"

# A version hook: (connection, article id, version number, version, now).
VersionHook = Callable[[Connection, str, int, VersionIntent, datetime], None]
CHUNK = 500  # ids per IN (...) query


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def one_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def create_db_engine(url: str, *, idle_timeout: float | None = None) -> Engine:
    """An engine for `url`. On PostgreSQL, `idle_timeout` (seconds) ends a
    session that sits in an open transaction that long: a worker frozen or
    cut off mid-write would otherwise hold its row locks (and with them the
    sources SKIP LOCKED passes over) until TCP notices, hours later."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=False
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if idle_timeout:
        milliseconds = max(1000, int(idle_timeout * 1000))

        @event.listens_for(engine, "connect")
        def _pg_session(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET idle_in_transaction_session_timeout = {milliseconds}")
            dbapi_conn.commit()

    return engine


@contextmanager
def sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file, hold an exclusive lock on DATABASE.migrate-lock
    beside it: several processes starting at once on a fresh file would
    otherwise each see no schema and race to create it ("table
    alembic_version already exists"). PostgreSQL has its advisory lock."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    with open(f"{path}.migrate-lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class StoreBase:
    """The engine and the transaction helpers; each part of Store extends it."""

    def __init__(
        self, url: str, *, migrate: bool = True, idle_timeout: float | None = None
    ) -> None:
        self.url = url
        self.engine = create_db_engine(url, idle_timeout=idle_timeout)
        self._write_lock = threading.Lock()
        self._serials: SerialReader | None = None
        # Called inside the transaction that writes each version (the
        # notification outbox, feedsvc/notify/outbox.py): what they write
        # commits or rolls back with the version.
        self.version_hooks: list[VersionHook] = []
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        if self._serials is not None:
            self._serials.close()
        self.engine.dispose()

    @property
    def serials(self) -> SerialReader:
        """The per-request change lookup of web nodes (see serials.py)."""
        if self._serials is None:
            self._serials = SerialReader(self.url)
        return self._serials

    def migrate(self) -> None:
        """Bring the schema to the newest migration; safe to run from many
        processes at once (serialised by a database lock)."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with sqlite_file_lock(self.engine), self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(784512)"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise FeedsvcError(f"database {self.engine.url!r}: {one_line(exc)}") from None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction. On SQLite it takes the write lock at BEGIN,
        so two writers queue instead of failing to upgrade a read lock."""
        # SQLite has one writer at a time: this process's writers queue on
        # a lock (woken at once) rather than in SQLite's busy handler, which
        # sleeps up to 100 ms between tries.
        lock = self._write_lock if self.dialect == "sqlite" else contextlib.nullcontext()
        with lock, self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))
