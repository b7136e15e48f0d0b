"""Keeping a database small and safe: `feedsvc prune` and `feedsvc backup`.

prune deletes raw evidence older than `[storage] keep_raw` (see
storage/retention.py); the scheduler of `feedsvc run` and `feedsvc worker`
runs it too, hourly. backup copies a SQLite database with SQLite's online
backup API, page by page under SQLite's own locking, so the copy is
consistent while the service keeps writing. PostgreSQL has pg_dump for that
(README: "Backups").
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from feedsvc.cli_base import config_option, opened
from feedsvc.config import Settings
from feedsvc.errors import UsageError
from feedsvc.storage import Store
from feedsvc.storage.retention import prune_raws

log = logging.getLogger("feedsvc.maintenance")

PRUNE_EVERY = 3600.0  # seconds between the scheduler's prunes


def prune(settings: Settings, store: Store, now: datetime | None = None) -> int | None:
    """Prune as configured: the number of raws deleted, or None when
    keep_raw is not set (everything is kept)."""
    keep = settings.storage.keep_raw
    if keep is None:
        return None
    deleted = prune_raws(store.engine, keep, now or datetime.now(UTC))
    if deleted:
        log.info("pruned %d raw responses older than %gs", deleted, keep)
    return deleted


def backup(database: str, target: Path) -> int:
    """Copy a SQLite database to `target` (a new file), consistently while
    other processes write. Returns the size of the copy in bytes."""
    url = make_url(database)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise UsageError(
            "feedsvc backup copies SQLite databases; for PostgreSQL use pg_dump "
            "(see Backups in the README)"
        )
    if target.exists():
        raise UsageError(f"{target} exists; back up to a new file")
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent} is not a folder")
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy, pages=1024)  # others may write between steps
        finally:
            copy.close()
    finally:
        source.close()
    return target.stat().st_size


def register(main: click.Group) -> None:
    """Add `prune` and `backup` to the feedsvc command."""

    @main.command("prune")
    @config_option
    def prune_command(settings: Settings) -> None:
        """Delete raw evidence older than [storage] keep_raw (never a version)."""
        with opened(settings) as store:
            deleted = prune(settings, store)
        if deleted is None:
            click.echo("nothing pruned: [storage] keep_raw is not set (everything is kept)")
        else:
            click.echo(f"pruned {deleted} raw responses")

    @main.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @config_option
    def backup_command(settings: Settings, path: Path) -> None:
        """Copy the SQLite database to PATH, safely while the service runs."""
        with opened(settings):  # migrated and reachable before it is copied
            pass
        size = backup(settings.service.database, path)
        click.echo(f"backed up to {path} ({size} bytes)")
