"""The web app for any WSGI server, configured from FEEDSVC_CONFIG (or
./config.toml), e.g. several processes under gunicorn:

    FEEDSVC_CONFIG=/etc/feedsvc.toml \\
        gunicorn -w 4 --threads 8 -b 127.0.0.1:8080 'feedsvc.web.wsgi:make_app()'

Each process keeps its own render cache and checks it against the
database's feed_state on every request, so they never serve stale bytes.
Do not use --preload: a database connection must not cross a fork.
"""

from __future__ import annotations

import os
import sys

from flask import Flask

from feedsvc import config
from feedsvc.errors import FeedsvcError
from feedsvc.web import create_app


def make_app(path: str | os.PathLike[str] | None = None) -> Flask:
    """A configured app; a bad config is one line on stderr and exit 2."""
    try:
        return create_app(config.load(path))
    except FeedsvcError as exc:
        print(f"feedsvc: error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
