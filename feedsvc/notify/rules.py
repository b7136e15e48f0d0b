"""Pure: is a new version worth telling a target? Nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass

from feedsvc.config import NotifySettings


@dataclass(frozen=True)
class VersionFacts:
    """What the rules look at, known when the version is written."""

    feed: str
    number: int
    change_class: str
    words_added: int
    words_removed: int
    headline_changed: bool
    suspect: bool = False


def wants(target: NotifySettings, v: VersionFacts) -> bool:
    """A first version is told only with include_first_version (or `initial`
    in classes). A later one must be of a wanted class, change the headline
    when headline_only, and change at least min_words_changed words unless
    its headline changed. A suspect version (the extraction guard's doubt)
    is never told: readers do not see it either."""
    if v.suspect or not target.covers(v.feed):
        return False
    if v.number == 1 or v.change_class == "initial":
        return "initial" in target.classes
    if v.change_class not in target.classes:
        return False
    if target.headline_only and not v.headline_changed:
        return False
    changed = v.words_added + v.words_removed
    return v.headline_changed or changed >= target.min_words_changed
