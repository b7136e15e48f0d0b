"""The keyset cursor: an article's position in its feed's order (newest
update first, then id), as the opaque token that page links
(/feeds/NAME.atom?before=) and the API (`next_cursor`) give out. One codec
for both; the store pages by the (updated_at, id) it decodes to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedsvc.models import ArticleRow

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode(updated_at: datetime, article_id: str) -> str:
    """The update time in microseconds since the epoch, then the id."""
    micros = (updated_at.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{article_id}"


def decode(value: str) -> tuple[datetime, str]:
    """The inverse of encode(); ValueError on anything else."""
    micros, sep, aid = value.partition("-")
    if not sep or not micros.isdigit() or not aid.isalnum() or len(aid) > 32 or len(micros) > 18:
        raise ValueError(f"{value!r} is not a page cursor")
    try:
        return EPOCH + timedelta(microseconds=int(micros)), aid
    except OverflowError:  # past year 9999
        raise ValueError(f"{value!r} is not a page cursor") from None


def position(article: ArticleRow) -> str:
    """The cursor of an article: pages after it start just past it."""
    return encode(article.updated_at, article.id)
