"""Pure: a word-level edit script between two texts, as plain operations.

The revisions feed and the JSON API need the changes between two versions as
data. This is the simple engine they use until the paragraph-aware one in
diff.py grows an operations API: difflib on whitespace-prefixed words.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

# A token is a word with the whitespace in front of it, so joining tokens
# gives back the exact text, paragraph breaks ("\n\n") included.
_TOKEN = re.compile(r"\s*\S+|\s+$")

Op = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class WordOp:
    """One run of the edit script: `text` kept, added or removed."""

    op: Op
    text: str


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_ops(old: str, new: str) -> list[WordOp]:
    """Operations that turn `old` into `new`: the equal and delete texts
    joined give `old`, the equal and insert texts joined give `new`.
    A replacement is a delete followed by an insert."""
    a, b = tokens(old), tokens(new)
    # autojunk=False: by default difflib ignores words that make up more than
    # 1% of a long text ("the", "and"), which turns small edits into big ones.
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    ops: list[WordOp] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(WordOp("equal", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            ops.append(WordOp("delete", "".join(a[i1:i2])))
        if j2 > j1:
            ops.append(WordOp("insert", "".join(b[j1:j2])))
    return ops


def apply_ops(ops: Sequence[WordOp], side: Literal["old", "new"]) -> str:
    """The text on one side of an edit script."""
    skip = "insert" if side == "old" else "delete"
    return "".join(o.text for o in ops if o.op != skip)
