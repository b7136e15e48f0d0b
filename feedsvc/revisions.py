"""Pure: normalise article text, hash it, decide whether a revision happened
and what kind it is. Nothing here does I/O or reads the clock."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from feedsvc.diff import word_changes
from feedsvc.models import LatestVersion
from feedsvc.text import strip_controls

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]+")

# Phrases newsrooms put on a story that is still being written. Matched case-
# and punctuation-insensitively; [scheduler] developing_markers adds more.
DEVELOPING_MARKERS: tuple[str, ...] = (
    "More details to follow",
    "More details to come",
    "More to follow",
    "Details to follow",
    "This is a developing story",
    "This is a breaking news story",
    "This story is developing",
    "This story will be updated",
    "This article will be updated",
    "This story has been updated and will be updated again",
    "This post will be updated",
    "Updates to follow",
    "Check back for updates",
    "Check back later for updates",
    "Refresh for updates",
    "Please check back for updates",
    "We will update this story",
    "We will update this article",
    "This breaking news story is being updated",
    "Further updates to follow",
    "More information to follow",
    "Stay tuned for updates",
)

CORRECTION_NOTICE = re.compile(
    r"^\s*(correction|clarification|editor['\u2019]?s note|an earlier version of this)",
    re.IGNORECASE | re.MULTILINE,
)


def normalise(text: str, ignore: Sequence[re.Pattern[str]] = ()) -> str:
    """Canonical text of an article: Unicode NFC, whitespace collapsed inside
    each paragraph, lines matching an `ignore` pattern dropped, one blank
    line between paragraphs. Two texts that differ only in what this drops
    are the same revision."""
    text = unicodedata.normalize("NFC", strip_controls(text)).replace("\r\n", "\n")
    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in text.replace("\r", "\n").split("\n"):
        line = _SPACE.sub(" ", raw_line).strip()
        if line and any(p.search(line) for p in ignore):
            continue
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def normalise_title(title: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", strip_controls(title))).strip()


def content_hash(title: str, text: str) -> str:
    """sha256 of a normalised title and text; equal hashes, same revision."""
    return hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()


def word_count(text: str) -> int:
    return len(text.split())


def _squash(text: str) -> str:
    return _SPACE.sub(" ", _PUNCT.sub(" ", text.casefold())).strip()


def developing_markers(extra: Iterable[str] = ()) -> tuple[str, ...]:
    return tuple(_squash(m) for m in (*DEVELOPING_MARKERS, *extra) if _squash(m))


def is_developing(text: str, markers: Sequence[str]) -> bool:
    """Does the text carry a developing marker? `markers` from
    developing_markers(); case and punctuation are ignored."""
    squashed = f" {_squash(text)} "
    return any(f" {m} " in squashed for m in markers)


@dataclass(frozen=True)
class Decision:
    """What the updater should store for one article, if anything."""

    changed: bool
    sha256: str
    change_class: str = "initial"
    revert_of: int | None = None
    words_added: int = 0
    words_removed: int = 0


def decide(
    latest: LatestVersion | None,
    known_hashes: Mapping[str, int],
    title: str,
    text: str,
) -> Decision:
    """Compare a normalised title and text with the latest stored version."""
    sha = content_hash(title, text)
    if latest is None:
        return Decision(True, sha, "initial", None, word_count(text), 0)
    if sha == latest.sha256:
        return Decision(False, sha)
    added, removed = word_changes(latest.text, text)
    revert_of = known_hashes.get(sha)
    change_class = classify(latest.title, latest.text, title, text, added, removed, revert_of)
    return Decision(True, sha, change_class, revert_of, added, removed)


def classify(
    old_title: str,
    old_text: str,
    new_title: str,
    new_text: str,
    added: int,
    removed: int,
    revert_of: int | None = None,
) -> str:
    """One word for what a revision did, so people can filter for it."""
    if revert_of is not None:
        return "revert"
    if old_text == new_text:
        return "headline"
    if len(CORRECTION_NOTICE.findall(new_text)) > len(CORRECTION_NOTICE.findall(old_text)):
        return "correction"
    if added and not removed and new_text.startswith(old_text):
        return "append"
    if removed and not added:
        return "deletion"
    if added and removed <= max(3, added // 10) and _grew_at_end(old_text, new_text):
        return "append"
    return "edit"


def _grew_at_end(old_text: str, new_text: str) -> bool:
    """All but the old last paragraph kept, and more text after it: the usual
    'More details to follow.' replaced by the details."""
    old = old_text.split("\n\n")
    new = new_text.split("\n\n")
    keep = old[:-1]
    return len(new) > len(old) - 1 and new[: len(keep)] == keep and len(new) >= len(old)
