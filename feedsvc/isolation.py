"""Upstream documents are parsed in child processes, not in the service.

feedparser, lxml and trafilatura run native and pure-Python code over bytes
an upstream chose. A crash there (a double free in libxml2 under threads), a
page that takes minutes, or one that eats memory must cost that document
only: never the process that serves pages and renews leases. So parse.py and
extract.py hand their work to a bounded pool of long-lived children
(`python -m feedsvc.isolation`), one document at a time each, through a
pipe, and:

- a child that takes longer than `timeout` on one document is killed;
- a child may grow by at most `memory` bytes over its size at start
  (RLIMIT_AS); past that the document fails with MemoryError, or the child
  dies, which is the same to the caller;
- a child that dies (a signal, an abort) is replaced; the document it held
  is a ParseError for its source, which is backed off as for any error.

Each child serves many documents (spawning one costs an interpreter and the
parser imports, some 0.5 s) and is replaced after `max_tasks` of them, so
a slow leak in a library cannot grow without bound. `workers = 0` parses in
this process (benchmarks use it as the baseline). `python bench/isolation.py`
measures the cost per document.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from feedsvc.config import FetchSettings
from feedsvc.errors import ParseError

log = logging.getLogger(__name__)
T = TypeVar("T")

# What a child may be asked to run: "module:function" of feedsvc's own
# in-process readers. Nothing else crosses the pipe.
TASKS = frozenset({"feedsvc.parse:read_feed", "feedsvc.extract:read_article"})
_HEADER = struct.Struct("!Q")
_MB = 1024 * 1024
_READY = b"feedsvc parser ready\n"
_START_TIMEOUT = 120.0  # a child's imports, on a loaded machine


@dataclass(frozen=True)
class Limits:
    workers: int = 2  # children at most; 0: parse in this process
    timeout: float = 60.0  # seconds one document may take
    memory: int = 1024 * _MB  # bytes a child may grow by
    max_tasks: int = 500  # documents before a child is replaced


def limits_from(fetch: FetchSettings) -> Limits:
    return Limits(
        workers=fetch.parse_workers, timeout=fetch.parse_timeout, memory=fetch.parse_memory * _MB
    )


class _Child:
    """One `python -m feedsvc.isolation` process and its two pipes."""

    def __init__(self, limits: Limits) -> None:
        env = dict(os.environ)
        env["FEEDSVC_CHILD_MEMORY"] = str(limits.memory)
        env["FEEDSVC_PARSER_CHILD"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc.isolation"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        self.tasks = 0
        # The child says it is ready once its imports are done, so that
        # starting one does not count against a document's time.
        assert self.proc.stdout is not None
        try:
            ready = _read_exactly(self.proc.stdout, len(_READY), time.monotonic() + _START_TIMEOUT)
        except _TimedOut:
            ready = None
        if ready != _READY:
            self.kill()
            raise ParseError("the parser process did not start")

    def call(
        self, task: str, what: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float
    ) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.tasks += 1
        request = pickle.dumps((task, what, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.proc.stdin.write(_HEADER.pack(len(request)) + request)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Died(self._death()) from None
        deadline = time.monotonic() + timeout
        header = _read_exactly(self.proc.stdout, _HEADER.size, deadline)
        if header is None:
            raise _Died(self._death())
        (size,) = _HEADER.unpack(header)
        payload = _read_exactly(self.proc.stdout, size, deadline)
        if payload is None:
            raise _Died(self._death())
        status, value = pickle.loads(payload)
        if status == "ok":
            return value
        raise value

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()


class _Died(Exception):
    pass


class _TimedOut(Exception):
    pass


def _read_exactly(stream: IO[bytes], size: int, deadline: float) -> bytes | None:
    """`size` bytes from the child, None if it closed the pipe (it died);
    _TimedOut past the deadline."""
    fd = stream.fileno()
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            raise _TimedOut
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class Pool:
    """At most `limits.workers` children, each running one document at a time."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._slots = threading.BoundedSemaphore(max(1, limits.workers))
        self._idle: list[_Child] = []
        self._all: set[_Child] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._retired = False  # replaced by a pool under new limits

    def run(self, task: str, what: str, *args: Any, **kwargs: Any) -> Any:
        """task(*args, **kwargs) in a child; its exceptions come back as they
        were raised. A hang, a crash or running out of memory is a
        ParseError naming `what` (the document's URL)."""
        if task not in TASKS:
            raise ValueError(f"not a parsing task: {task}")
        with self._slots:
            child = self._take()
            try:
                result = child.call(task, what, args, kwargs, self.limits.timeout)
            except _TimedOut:
                self._discard(child)
                raise ParseError(
                    f"{what}: parsing took longer than {self.limits.timeout:g}s; stopped"
                ) from None
            except _Died as exc:
                self._discard(child)
                raise ParseError(f"{what}: the parser process died ({exc})") from None
            except BaseException:
                self._give_back(child)
                raise
            self._give_back(child)
            return result

    def _take(self) -> _Child:
        with self._lock:
            if self._closed:
                raise ParseError("the parser pool is closed (the process is stopping)")
            if self._idle:
                return self._idle.pop()
        child = _Child(self.limits)
        with self._lock:
            self._all.add(child)
        return child

    def _give_back(self, child: _Child) -> None:
        if child.tasks >= self.limits.max_tasks or self._retired:
            self._discard(child)
            return
        with self._lock:
            if not self._closed:
                self._idle.append(child)
                return
        self._discard(child)

    def _discard(self, child: _Child) -> None:
        child.kill()
        with self._lock:
            self._all.discard(child)

    def children(self) -> list[int]:
        """Process ids of the children (for tests and /healthz-like tools)."""
        with self._lock:
            return [c.proc.pid for c in self._all]

    def retire(self) -> None:
        """Replaced by a pool under new limits: the idle children end now,
        the busy ones (and any document already waiting here) finish first."""
        with self._lock:
            self._retired = True
            idle, self._idle = self._idle, []
            self._all.difference_update(idle)
        for child in idle:
            child.kill()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            children, self._all, self._idle = list(self._all), set(), []
        for child in children:
            child.kill()


_pool: Pool | None = None
_limits = Limits()
_pool_lock = threading.Lock()
# Set in the children themselves: they parse in their own process.
_in_child = os.environ.get("FEEDSVC_PARSER_CHILD") == "1"


def configure(limits: Limits) -> None:
    """Set the limits of this process's pool (from [fetch] settings; again
    on a config reload): the next document goes to a pool under the new
    limits, and the children running under the old ones end once done."""
    global _pool, _limits
    with _pool_lock:
        if limits == _limits:
            return
        old, _pool, _limits = _pool, None, limits
    if old is not None:
        old.retire()


def pool() -> Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = Pool(_limits)
        return _pool


def isolated(task: str, what: str, fallback: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fallback(*args, **kwargs)` run by a child as `task`, or right here
    when isolation is off (workers = 0) or this is a child already."""
    if _in_child or _limits.workers == 0:
        return fallback(*args, **kwargs)
    result: T = pool().run(task, what, *args, **kwargs)
    return result


def close() -> None:
    """Stop the children (at exit; they also die with this process)."""
    global _pool
    with _pool_lock:
        old, _pool = _pool, None
    if old is not None:
        old.close()


# -- the child -----------------------------------------------------------------


def _exit_with_parent() -> None:
    """Stop this child when the process that started it is gone, even in
    the middle of a document (PR_SET_PDEATHSIG would follow the thread that
    started the child, not the process, so a thread ending would kill it)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _limit_memory(extra: int) -> None:
    import resource

    with open("/proc/self/statm") as f:
        size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = size + extra
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _warm_up() -> None:
    """Import the readers and run each once on a small document: their first
    call loads lazily (trafilatura takes most of a second), and that must
    count against neither a real document's time nor its memory."""
    from feedsvc.extract import read_article
    from feedsvc.parse import read_feed

    url = "http://127.0.0.1/warm-up"
    with contextlib.suppress(Exception):
        read_feed(
            b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item>"
            b"<guid>1</guid><title>t</title><description>d</description></item>"
            b"</channel></rss>",
            url,
        )
    with contextlib.suppress(Exception):
        read_article(
            "<html><head><title>t</title></head><body><article><p>"
            + "A sentence of an article, long enough to be extracted. " * 20
            + "</p></article></body></html>",
            url,
        )


def _child_main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which stops us
    _exit_with_parent()
    # The pipe is our stdout; anything a library prints goes to stderr.
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s (parser %(process)d): %(message)s",
        stream=sys.stderr,
    )
    _warm_up()
    _limit_memory(int(os.environ.get("FEEDSVC_CHILD_MEMORY", str(1024 * _MB))))
    replies.write(_READY)
    replies.flush()
    while True:
        header = requests.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the parent closed the pipe: stop
        (size,) = _HEADER.unpack(header)
        payload = b""
        while len(payload) < size:
            chunk = requests.read(size - len(payload))
            if not chunk:
                return
            payload += chunk
        reply = _serve(payload)
        replies.write(_HEADER.pack(len(reply)) + reply)
        replies.flush()


def _serve(payload: bytes) -> bytes:
    what = "a document"
    try:
        task, what, args, kwargs = pickle.loads(payload)
        if task not in TASKS:
            raise ValueError(f"not a parsing task: {task}")
        module, _, name = task.partition(":")
        result = getattr(importlib.import_module(module), name)(*args, **kwargs)
        return pickle.dumps(("ok", result), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        error: BaseException = ParseError(
            f"{what}: parsing needed more memory than the limit allows"
        )
    except Exception as exc:
        error = exc
    try:
        return pickle.dumps(("error", error), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle
        return pickle.dumps(
            ("error", ParseError(f"{type(error).__name__}: {error}")),
            protocol=pickle.HIGHEST_PROTOCOL,
        )


if __name__ == "__main__":
    _child_main()
