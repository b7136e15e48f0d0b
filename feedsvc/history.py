"""Revision history, the one home of "a revision": which versions of an
article are published, which is the latest, which version each one follows,
and which version ranges make a diff. Pure: lists of VersionRow in, the
same out; every surface (feeds, pages, API, CLI, the revisions feed) asks
here instead of walking the versions itself.

A version marked suspect (the extraction guard's doubt: a paywall, an error
page served with 200) is numbered and kept as evidence, but it is not
published: it is never an article's latest version, never a predecessor,
and its title is shown nowhere a reader looks for the article.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from feedsvc.errors import FeedsvcError
from feedsvc.models import VersionRow


class BadRange(FeedsvcError):
    """A version range that names no diff: FROM must be an older version
    than TO, both between 1 and the latest."""


class Revision(NamedTuple):
    """One published version with the published version before it (None
    for the first)."""

    previous: VersionRow | None
    version: VersionRow


def published(versions: Iterable[VersionRow]) -> list[VersionRow]:
    """The versions a reader sees, oldest first: every one not suspect."""
    return [v for v in versions if not v.suspect]


def latest(versions: Sequence[VersionRow]) -> VersionRow | None:
    """The latest published version: the last one not marked suspect."""
    return next((v for v in reversed(versions) if not v.suspect), None)


def latest_title(versions: Sequence[VersionRow], default: str = "") -> str:
    """The article's headline now: the latest published version's title."""
    found = latest(versions)
    return found.title if found is not None else default


def revisions(versions: Iterable[VersionRow]) -> list[Revision]:
    """(previous, version) of each published version, oldest first."""
    out: list[Revision] = []
    previous: VersionRow | None = None
    for v in published(versions):
        out.append(Revision(previous, v))
        previous = v
    return out


def predecessor(numbers: Sequence[int], number: int) -> int | None:
    """The published version number just before `number`, given the
    published numbers of its article in ascending order."""
    before = [n for n in numbers if n < number]
    return before[-1] if before else None


def diff_range(
    versions: Sequence[VersionRow], from_n: int | None = None, to_n: int | None = None
) -> tuple[int, int]:
    """The (FROM, TO) a diff of these versions (oldest first) shows: as
    asked, what is not asked filled in from the published versions (TO: the
    latest published one; FROM: the published one before TO). Raises
    BadRange when that is no range of these versions."""
    stored = versions[-1].number if versions else 0
    numbers = [v.number for v in published(versions)]
    if to_n is None:
        to_n = numbers[-1] if numbers else stored
    if from_n is None:
        before = predecessor(numbers, to_n)
        from_n = before if before is not None else to_n - 1
    check_range(from_n, to_n, stored)
    return from_n, to_n


def check_range(from_n: int, to_n: int, latest_number: int | None = None) -> None:
    """Raise BadRange unless 1 <= FROM < TO (<= latest_number, when given:
    without it a version past the latest is the caller's NotFound)."""
    if not 1 <= from_n < to_n or (latest_number is not None and to_n > latest_number):
        has = f"versions 1 to {latest_number}" if latest_number is not None else "versions from 1"
        raise BadRange(
            f"no diff from version {from_n} to {to_n}: the article has {has}, "
            "and FROM must be older than TO"
        )
