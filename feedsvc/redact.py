"""Secrets in URLs stay secret: what a person or a log sees of a URL has its
userinfo (user:password@) and its token-like query values masked.

Source URLs are written by operators, and some carry credentials
(`https://reader:s3cret@intranet.example/feed`,
`https://api.example/feed?api_key=...`). They are shown on /healthz, in
pages ("original article"), in errors and in the log: every one of those
goes through `url` (one URL) or `text` (any text that may hold URLs: an
error message, a log line). Fetching uses the real URL; only what is shown
is masked.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
# A query parameter whose name contains one of these holds a secret.
SECRET_NAMES = ("token", "key", "secret", "pass", "pwd", "auth", "sig", "session", "credential")
# http(s) URLs inside free text: a scheme, then anything up to white space or
# a quote or bracket. One character class, no nesting: linear time.
_URL = re.compile(r"https?://[^\s'\"<>()\[\]{}]+", re.IGNORECASE)


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_NAMES)


def url(value: str) -> str:
    """`value` with userinfo and secret query values replaced by ***. A URL
    with nothing to hide comes back unchanged (byte for byte)."""
    if "@" not in value and "=" not in value:
        return value
    try:
        parts = urlsplit(value)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = MASK + "@" + netloc.rpartition("@")[2]
        query = parts.query
        if query:
            # Textually, so that everything else stays byte for byte.
            pieces = []
            for piece in query.split("&"):
                name, eq, _ = piece.partition("=")
                pieces.append(f"{name}={MASK}" if eq and _secret_name(unquote(name)) else piece)
            query = "&".join(pieces)
        if netloc == parts.netloc and query == parts.query:
            return value
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return value.partition("?")[0].rpartition("@")[2] if "@" in value else value


def text(value: str) -> str:
    """Every http(s) URL inside `value` masked with `url`."""
    if "://" not in value:
        return value
    return _URL.sub(_masked, value)


def _masked(match: re.Match[str]) -> str:
    # "http://host/feed: HTTP 500": the colon ends the sentence, not the URL.
    found = match.group(0)
    core = found.rstrip(".,;:!?")
    return url(core) + found[len(core) :]


class LogFilter(logging.Filter):
    """Masks URLs in a record's message and traceback before any handler
    writes it (install it on the handlers: see cli.setup_logging)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = text(record.exc_text)
        return True
