"""Pure: which revisions a filtered revisions feed (or API list) keeps.

`/feeds/NAME/revisions.atom?class=headline,correction&stealth=1&min_words=5`
keeps revisions of one of those classes, that are stealth edits, changing at
least five words (added plus removed). Each filter is optional; a bad value
is a ValueError whose message names the parameter (a 400 on the web).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from feedsvc.models import VersionRow

CLASSES = ("initial", "append", "edit", "headline", "correction", "deletion", "revert")
MAX_MIN_WORDS = 100_000
PARAMS = ("class", "stealth", "min_words")


@dataclass(frozen=True)
class RevisionFilter:
    classes: tuple[str, ...] = ()  # in CLASSES order; empty: any class
    stealth: bool | None = None  # None: either
    min_words: int = 0

    @property
    def active(self) -> bool:
        return bool(self.classes) or self.stealth is not None or self.min_words > 0

    @property
    def query(self) -> str:
        """The canonical query string ("" when nothing is filtered): the
        same filter always has the same self link, feed id and cache slot."""
        parts = []
        if self.classes:
            parts.append("class=" + ",".join(self.classes))
        if self.stealth is not None:
            parts.append(f"stealth={int(self.stealth)}")
        if self.min_words:
            parts.append(f"min_words={self.min_words}")
        return "&".join(parts)

    def describe(self) -> str:
        """For a feed title: "stealth edits, headline or correction, 5+ words"."""
        parts = []
        if self.stealth is not None:
            parts.append("stealth edits" if self.stealth else "not stealth edits")
        if self.classes:
            parts.append(" or ".join(self.classes))
        if self.min_words:
            parts.append(f"{self.min_words}+ words changed")
        return ", ".join(parts)

    def matches(self, v: VersionRow) -> bool:
        return (
            (not self.classes or v.change_class in self.classes)
            and (self.stealth is None or v.stealth == self.stealth)
            and v.words_added + v.words_removed >= self.min_words
        )


STEALTH = RevisionFilter(stealth=True)


def parse_filter(args: Mapping[str, str]) -> RevisionFilter:
    """The filter named by query arguments; other arguments are ignored."""
    classes: tuple[str, ...] = ()
    raw = args.get("class")
    if raw is not None:
        named = {c.strip().lower() for c in raw.split(",") if c.strip()}
        unknown = sorted(named - set(CLASSES))
        if unknown or not named:
            what = repr(unknown[0][:40]) if unknown else "nothing"
            raise ValueError(f"class: {what} is not a revision class ({', '.join(CLASSES)})")
        classes = tuple(c for c in CLASSES if c in named)
    stealth: bool | None = None
    raw = args.get("stealth")
    if raw is not None:
        if raw.strip().lower() not in ("0", "1", "true", "false"):
            raise ValueError("stealth: expected 1 or 0")
        stealth = raw.strip().lower() in ("1", "true")
    min_words = 0
    raw = args.get("min_words")
    if raw is not None:
        value = raw.strip()
        if not value.isdigit() or len(value) > 6 or int(value) > MAX_MIN_WORDS:
            raise ValueError(f"min_words: expected a whole number from 0 to {MAX_MIN_WORDS}")
        min_words = int(value)
    return RevisionFilter(classes, stealth, min_words)
