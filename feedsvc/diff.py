"""Pure: word-level differences between two versions of a text."""

from __future__ import annotations

import difflib


def word_changes(old: str, new: str) -> tuple[int, int]:
    """(words added, words removed) going from `old` to `new`."""
    a, b = old.split(), new.split()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed
