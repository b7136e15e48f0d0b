"""What every `feedsvc` subcommand module shares: the `--config` option
that loads the settings (a mistake in them is one line and exit status 2,
never a traceback) and a Store opened on them. Its own module so that the
subcommands living beside cli.py (notify, maintenance) import it without
importing cli.py, which imports them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click

from feedsvc import config, notify
from feedsvc.config import Settings
from feedsvc.errors import FeedsvcError
from feedsvc.storage import Store

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    @click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        default=None,
        envvar=config.ENV_CONFIG,
        show_envvar=True,
        help="config.toml to use (default ./config.toml).",
    )
    @wraps(func)
    def wrapper(*args: Any, config_file: str | None, **kwargs: Any) -> Any:
        try:
            settings = config.load(config_file)
            return func(settings, *args, **kwargs)
        except FeedsvcError as exc:
            click.echo(f"feedsvc: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@contextmanager
def opened(settings: Settings) -> Iterator[Store]:
    # A transaction idle for a whole lease belongs to a frozen or cut-off
    # process: PostgreSQL ends it, so its locks do not outlive its leases.
    store = Store(settings.service.database, idle_timeout=settings.scheduler.lease)
    notify.install(store, settings)  # the outbox rows, in each version's transaction
    try:
        yield store
    finally:
        store.close()
