"""Every value a URL carries, parsed into a bounded, typed value, or a 400.

Path segments and query parameters come from anyone. Each is checked here
for its shape and its range before it reaches Python's int() (which refuses
numbers past 4,300 digits with a ValueError), datetime arithmetic (which
overflows past the years 1 and 9999) or the database (whose integer columns
stop at 2**31 - 1): what is out of bounds is the client's mistake, a 400
naming the parameter, never a 500.

`number` is also a URL converter (`/articles/<aid>/versions/<number:n>`),
registered by `init_app`: a route that takes a version number gets a checked
int, and a path with an absurd one is answered 400 by the error handlers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from flask import Flask, abort
from werkzeug.routing import BaseConverter

from feedsvc import history, keyset
from feedsvc.export import parse_since

MAX_INT = 2**31 - 1  # the database's integer columns
# Times a URL may name: anything the service can have seen, with room.
TIME_MIN = datetime(1970, 1, 1, tzinfo=UTC)
TIME_MAX = datetime(9999, 12, 31, tzinfo=UTC)
EPOCH = TIME_MIN
MAX_MICROS = (TIME_MAX - EPOCH) // timedelta(microseconds=1)
MAX_ID = 64  # article ids are 16 hex digits; nothing longer is one


def bad(name: str, message: str) -> NoReturn:
    abort(400, description=f"{name}: {message}")


def whole(name: str, raw: str, low: int = 1, high: int = MAX_INT) -> int:
    """A whole number from `low` to `high` written in ASCII digits."""
    digits = raw.lstrip("0") or "0"
    if not (raw.isascii() and raw.isdigit()) or len(digits) > len(str(high)):
        bad(name, f"expected a whole number from {low} to {high}, got {_show(raw)}")
    value = int(digits)
    if not low <= value <= high:
        bad(name, f"expected a whole number from {low} to {high}, got {_show(raw)}")
    return value


def when(name: str, raw: str) -> datetime:
    """An ISO 8601 date or time (UTC when no zone is given) between
    TIME_MIN and TIME_MAX, as an aware UTC datetime."""
    try:
        value = parse_since(raw[:64])
    except (ValueError, OverflowError) as exc:
        bad(name, str(exc) if isinstance(exc, ValueError) else f"{_show(raw)} is out of range")
    if len(raw) > 64 or not TIME_MIN <= value <= TIME_MAX:
        bad(name, f"expected a time from {TIME_MIN:%Y-%m-%d} to {TIME_MAX:%Y-%m-%d}")
    return value


def article_id(name: str, raw: str) -> str:
    if not (raw.isascii() and raw.isalnum()) or len(raw) > MAX_ID:
        bad(name, f"not an article id: {_show(raw)}")
    return raw


def version_range(spec: str) -> tuple[int, int, bool]:
    """ "A...B" or "A...B.diff": two version numbers, older first."""
    body, dotdiff, rest = spec.partition(".diff")
    a, sep, b = body.partition("...")
    if not sep or rest or not (a.isascii() and a.isdigit() and b.isascii() and b.isdigit()):
        bad("range", f"{_show(spec)} is not a version range like 1...2")
    older, newer = whole("range", a), whole("range", b)
    try:
        history.check_range(older, newer)
    except history.BadRange:
        bad("range", f"{_show(spec)}: the range must go from an older version to a newer one")
    return older, newer, bool(dotdiff)


def cursor(name: str, raw: str) -> tuple[datetime, str]:
    """A keyset position (feed page links and the API's `next` give them
    out, keyset.encode makes them), or a 400 naming the parameter."""
    try:
        at, aid = keyset.decode(raw)
    except ValueError:
        bad(name, "not a cursor this service gave out")
    if not TIME_MIN <= at <= TIME_MAX:
        bad(name, "not a cursor this service gave out")
    return at, aid


def _show(raw: str) -> str:
    """The value for an error message, cut short: a 5,000-digit number is
    not worth echoing."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "...")


class NumberConverter(BaseConverter):
    """A version number in a path: digits, checked like `whole`. Too large is
    a 400 (werkzeug routes an HTTPException from to_python to the handlers)."""

    regex = r"\d+"
    part_isolating = True

    def to_python(self, value: str) -> int:
        return whole("version", value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def _check_path_values(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Path values every route shares, checked before any view runs: an
    article id is what the store could hold (PostgreSQL refuses a NUL in a
    query, so an unchecked id would be a 500 there)."""
    if values and "aid" in values:
        article_id("article", values["aid"])


def init_app(app: Flask) -> None:
    app.url_map.converters["number"] = NumberConverter
    app.url_value_preprocessor(_check_path_values)
