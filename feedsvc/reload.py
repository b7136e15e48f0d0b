"""Config reload without a restart: `feedsvc run`, `serve` and `worker`
re-read config.toml on SIGHUP and when the file changes on disk.

A watcher thread looks at the file (its size, mtime and inode) every
`interval` seconds and wakes at once on SIGHUP. A new config is loaded and
validated exactly as at start; one that does not validate is refused with
one log line naming the key, and the running config stays in force. One
that does is handed to each part that registered an applier (the web's
state, the scheduler's sources and settings), in the order they were added.

Settings read at start only ([service] listen, database, threads) cannot
change in a running process: a change to them is logged as needing a
restart and the rest applies.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from feedsvc import config
from feedsvc.config import Settings
from feedsvc.errors import ConfigError

log = logging.getLogger("feedsvc.reload")

Applier = Callable[[Settings], None]
RESTART_ONLY = ("listen", "database", "threads")


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class ConfigWatcher:
    """Reloads `settings.path` on SIGHUP or a change of the file."""

    def __init__(self, settings: Settings, *, interval: float = 1.0) -> None:
        if settings.path is None:
            raise ValueError("settings without a file cannot be reloaded")
        self.path: Path = settings.path
        self.settings = settings
        self.interval = interval
        self._appliers: list[Applier] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stamp = _stamp(self.path)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def on_reload(self, applier: Applier) -> None:
        self._appliers.append(applier)

    def start(self) -> None:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self._on_sighup)
        self._thread = threading.Thread(target=self._run, name="config-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)

    def _on_sighup(self, signum: int, frame: Any) -> None:
        self._wake.set()  # nothing else is safe inside a signal handler

    def _run(self) -> None:
        while not self._stop.is_set():
            hup = self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            stamp = _stamp(self.path)
            if hup or (stamp is not None and stamp != self._stamp):
                self._stamp = stamp
                self.reload("SIGHUP" if hup else "a change of the file")

    def reload(self, why: str = "a request") -> bool:
        """Load, validate and apply the config now; False if it was refused."""
        with self._lock:
            try:
                new = config.load(self.path)
            except ConfigError as exc:
                log.error("config reload refused, the running config stays in force: %s", exc)
                return False
            old = self.settings
            for key in RESTART_ONLY:
                if getattr(old.service, key) != getattr(new.service, key):
                    log.warning("[service] %s changed: it takes effect at the next restart", key)
            self.settings = new
            for applier in self._appliers:
                try:
                    applier(new)
                except Exception:  # one part failing must not stop the others
                    log.exception("applying the reloaded config failed in %r", applier)
            added = {f.name for f in new.feeds} - {f.name for f in old.feeds}
            removed = {f.name for f in old.feeds} - {f.name for f in new.feeds}
            log.info(
                "config reloaded after %s: %d feeds (%s added, %s removed)",
                why,
                len(new.feeds),
                ", ".join(sorted(added)) or "none",
                ", ".join(sorted(removed)) or "none",
            )
            return True
