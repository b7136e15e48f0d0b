"""The cheapest possible "has this feed changed?" lookup, for every request.

A web node answers each request for a feed from bytes rendered earlier, but
another process (a worker, `feedsvc poll`) may have committed a new version
since. feed_state.serial is bumped in the same transaction as every change,
so one indexed primary-key read tells a web node whether its rendering is
still current. That read is on the hot path of every request, so it skips
SQLAlchemy's statement machinery and the connection pool: each thread keeps
one DBAPI connection in autocommit mode (a fresh snapshot per read, never an
idle transaction) and runs one precompiled statement on it.

On SQLite even that read is too dear for a thread pool (its file locks and
the GIL hand-offs around it cost more CPU than the rest of a 304), and there
is a cheaper witness of change: every commit writes the WAL, so if the WAL
has not changed inode, size or mtime since the last read, neither has the
data. Modification times are coarse, so a WAL written in the last RACY
seconds is not trusted ("racily clean", as git calls it) and the read goes
to the database: a commit is seen by the next request whichever way it is
detected.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

RACY = 0.25  # seconds: far above any filesystem's timestamp granularity
_ONE = "SELECT serial, changed_at FROM feed_state WHERE feed = {p}"
# Serials only grow, so their sum changes whenever any feed changes: the
# version of data that spans feeds (the index page, the OPML list).
_ALL = "SELECT COALESCE(SUM(serial), 0), MAX(changed_at) FROM feed_state"


def as_utc(value: Any) -> datetime | None:
    """A timestamp as the DBAPI returns it (naive text on SQLite, aware on
    PostgreSQL) -> aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SerialReader:
    """read(feed) -> (serial, changed_at); read(None) covers every feed.
    changed_at comes back raw (see as_utc): converting it costs more than
    the read itself, and only a cache miss needs it."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        # A pool-less engine of our own: the pool of the Store is for real
        # queries, and parking a connection per web thread there would
        # starve them.
        sqlite = url.startswith("sqlite")
        self._engine: Engine = create_engine(
            url,
            poolclass=NullPool,
            # close() may run on another thread than the one that opened.
            connect_args={"check_same_thread": False} if sqlite else {},
        )
        self._sqlite = sqlite
        self._clock = clock
        self._wal: str | None = None
        database = self._engine.url.database
        if sqlite and database and database != ":memory:":
            self._wal = f"{database}-wal"
        self._seen: dict[str | None, tuple[tuple[int, int, int], tuple[int, Any]]] = {}
        self.queries = 0  # reads that went to the database (for tests and curiosity)
        param = "?" if self._sqlite else "%s"
        self._one = _ONE.format(p=param)
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        conn: Any = getattr(self._local, "conn", None)
        if conn is None:
            proxy = self._engine.raw_connection()
            conn = proxy.dbapi_connection
            proxy.detach()  # ours for this thread's life, not the pool's
            if self._sqlite:
                conn.execute("PRAGMA busy_timeout=30000")
            else:
                conn.autocommit = True
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def read(self, feed: str | None) -> tuple[int, Any]:
        if self._wal is None:
            return self._query(feed)
        stamp = self._fingerprint(self._wal)  # before the query: a later commit changes it
        if stamp is not None:
            seen = self._seen.get(feed)
            if seen is not None and seen[0] == stamp:
                return seen[1]
        result = self._query(feed)
        if stamp is not None:
            self._seen[feed] = (stamp, result)
        return result

    def _fingerprint(self, wal: str) -> tuple[int, int, int] | None:
        """(inode, size, mtime) of the WAL, or None when it cannot vouch
        for the data: written too recently for its mtime to be trusted, or
        absent (no connection open, or the database left WAL mode, when
        commits go to the database file itself). Every commit in WAL mode
        writes the WAL; the database file changes only by checkpoints,
        which copy what the WAL already holds, so it need not be watched,
        and each stat saved is a GIL hand-off saved on the hot path."""
        try:
            st = os.stat(wal)
        except FileNotFoundError:
            return None
        if self._clock() - st.st_mtime_ns / 1e9 < RACY:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _query(self, feed: str | None) -> tuple[int, Any]:
        self.queries += 1
        for attempt in (1, 2):
            conn = self._connection()
            try:
                cur = conn.execute(_ALL) if feed is None else conn.execute(self._one, (feed,))
                row = cur.fetchone()
                return (int(row[0]), row[1]) if row else (0, None)
            except Exception:
                # A dropped connection (database restarted): open a new one
                # once, then let the error reach the caller.
                self._forget(conn)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _forget(self, conn: Any) -> None:
        self._local.conn = None
        with self._lock:
            if conn in self._opened:
                self._opened.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            with contextlib.suppress(Exception):
                conn.close()
        self._engine.dispose()
