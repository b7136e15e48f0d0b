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
is a cheaper witness of change: every commit in WAL mode rewrites the header
of SQLite's wal-index, the DATABASE-shm file that every connection on the
host maps into memory. Reading that header from our own mapping is a memory
read, with no system call and no GIL hand-off; while it is unchanged, no
commit has happened, and a commit is seen by the very next request.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

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

    def __init__(self, url: str) -> None:
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
        self._index: WalIndex | None = None
        database = self._engine.url.database
        if sqlite and database and database != ":memory:":
            self._index = WalIndex(f"{database}-shm")
        self._seen: dict[str | None, tuple[bytes, tuple[int, Any]]] = {}
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
        # The header is only mapped while this reader holds a connection:
        # SQLite re-creates the -shm file only when no connection has it open.
        index = self._index if self._opened else None
        if index is None:
            return self._query(feed)
        stamp = index.stamp()  # before the query: a later commit changes it
        if stamp is not None:
            seen = self._seen.get(feed)
            if seen is not None and seen[0] == stamp:
                return seen[1]
        result = self._query(feed)
        if stamp is not None:
            self._seen[feed] = (stamp, result)
        return result

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
            if not self._opened and self._index is not None:
                self._index.close()
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
            if self._index is not None:
                self._index.close()
        for conn in opened:
            with contextlib.suppress(Exception):
                conn.close()
        self._engine.dispose()


# SQLite's wal-index header (https://www.sqlite.org/walformat.html): the
# -shm file starts with two copies of a 48-byte WalIndexHdr (iVersion,
# unused, iChange, isInit, bigEndCksum, szPage, mxFrame, nPage, frame
# checksum, salts, header checksum). A commit rewrites it: iChange and
# mxFrame move, and a WAL reset changes the salts.
_HDR = 48
_IS_INIT = 12  # byte offset of isInit in a header


class WalIndex:
    """The wal-index header of one SQLite database, mapped read-only.

    The writer stores the second copy first and the first copy last, and
    SQLite's own readers trust the header only when both copies agree; so
    does stamp(). A header caught mid-write, not yet initialised, or a file
    too short to hold it vouches for nothing (None), and the caller asks the
    database instead.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._lock = threading.Lock()

    def stamp(self) -> bytes | None:
        m = self._map or self._open()
        if m is None:
            return None
        try:
            first, second = m[0:_HDR], m[_HDR : 2 * _HDR]
        except ValueError:  # closed under us by close(): ask the database
            return None
        if first != second or first[_IS_INIT] != 1:
            return None
        return first

    def _open(self) -> mmap.mmap | None:
        with self._lock:
            if self._map is not None:
                return self._map
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except OSError:
                return None
            try:
                if os.fstat(fd).st_size < 2 * _HDR:
                    return None
                self._map = mmap.mmap(fd, 2 * _HDR, prot=mmap.PROT_READ)
            except (OSError, ValueError):
                return None
            finally:
                os.close(fd)
            return self._map

    def close(self) -> None:
        with self._lock:
            m, self._map = self._map, None
        if m is not None:
            m.close()
