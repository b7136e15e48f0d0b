"""Pure: word-level differences between two versions of an article.

Texts are normalised (revisions.normalise): paragraphs separated by one blank
line, words by one space. The engine works in two steps, so a long article
with a few changes costs little:

1. Align paragraphs (equal, inserted, deleted, changed). A paragraph that
   disappears in one place and reappears unchanged in another is `moved`.
2. Diff words only inside the paragraphs that changed.

difflib.SequenceMatcher is used with autojunk=False (otherwise frequent words
such as "the" are silently treated as junk and the diff is wrong on long
texts). It is quadratic at worst, so before running it we trim the common
prefix and suffix and check the size of what is left; past `MAX_PAIRS` the
block is reported as one replacement instead of a word-by-word diff.
"""

from __future__ import annotations

import difflib
import html
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

OpKind = Literal["equal", "insert", "delete", "replace"]
ParagraphKind = Literal["equal", "insert", "delete", "change", "moved"]

# Past this many candidate comparisons, SequenceMatcher's worst case starts
# to show (tens of milliseconds); the block is then replaced as a whole.
MAX_PAIRS = 250_000
# Changed-paragraph blocks larger than this (old x new paragraphs) are paired
# by position instead of by similarity.
MAX_PAIRING = 400
# Two paragraphs sharing at least this share of their words are one paragraph
# edited, not one deleted and another inserted.
SIMILAR = 0.4

# Inline styles for feed content: feed readers and mail clients strip <style>
# and classes, so the marks must carry their own look.
INS_STYLE = "background-color:#d7f5dd;color:#0b3d16;text-decoration:underline"
DEL_STYLE = "background-color:#fbdcdc;color:#5c0a0a;text-decoration:line-through"


@dataclass(frozen=True)
class DiffOp:
    """One run of words inside a paragraph. `equal` runs carry the same text
    on both sides; `insert` has only new_text, `delete` only old_text."""

    kind: OpKind
    old_text: str
    new_text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "old_text": self.old_text, "new_text": self.new_text}


@dataclass(frozen=True)
class ParagraphDiff:
    """One paragraph's fate. Indexes are 0-based positions in the old and the
    new text; `insert` has no old index, `delete` no new index. A `moved`
    paragraph is unchanged but sits elsewhere (old_index -> new_index)."""

    kind: ParagraphKind
    old_index: int | None
    new_index: int | None
    ops: tuple[DiffOp, ...]

    @property
    def old_text(self) -> str:
        return _join(op.old_text for op in self.ops)

    @property
    def new_text(self) -> str:
        return _join(op.new_text for op in self.ops)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "ops": [op.to_dict() for op in self.ops],
        }


@dataclass(frozen=True)
class TextDiff:
    """Everything that changed between two versions: the headline (on its
    own), the paragraphs in reading order of the new text with deleted ones
    where they used to be, and word counts (moved paragraphs count as
    neither added nor removed)."""

    old_title: str
    new_title: str
    title_ops: tuple[DiffOp, ...]
    paragraphs: tuple[ParagraphDiff, ...]
    words_added: int
    words_removed: int

    @property
    def title_changed(self) -> bool:
        return self.old_title != self.new_title

    @property
    def changed(self) -> bool:
        return self.title_changed or any(p.kind != "equal" for p in self.paragraphs)

    def old_text(self) -> str:
        """The old text, rebuilt from the operations."""
        kept = sorted((p.old_index, p.old_text) for p in self.paragraphs if p.old_index is not None)
        return "\n\n".join(text for _, text in kept)

    def new_text(self) -> str:
        """The new text, rebuilt from the operations."""
        return "\n\n".join(p.new_text for p in self.paragraphs if p.new_index is not None)

    def apply(self, old_text: str) -> str:
        """Patch `old_text` with the operations and return the new text.
        Raises ValueError when the operations do not fit `old_text` (every
        old paragraph must be kept, changed or deleted exactly once, and
        each run's old words must be the words found there)."""
        old = paragraphs_of(old_text)
        used = sorted(p.old_index for p in self.paragraphs if p.old_index is not None)
        if used != list(range(len(old))):
            raise ValueError("the diff does not account for every old paragraph")
        out = []
        for p in self.paragraphs:
            if p.old_index is None:
                out.append(p.new_text)
                continue
            source = old[p.old_index].split()
            pos = 0
            words: list[str] = []
            for op in p.ops:
                expected = op.old_text.split()
                if source[pos : pos + len(expected)] != expected:
                    raise ValueError(f"paragraph {p.old_index + 1} does not match the diff")
                pos += len(expected)
                words += expected if op.kind == "equal" else op.new_text.split()
            if pos != len(source):
                raise ValueError(f"paragraph {p.old_index + 1} is longer than the diff")
            if p.new_index is not None:
                out.append(" ".join(words))
        return "\n\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": {
                "changed": self.title_changed,
                "old": self.old_title,
                "new": self.new_title,
                "ops": [op.to_dict() for op in self.title_ops],
            },
            "words_added": self.words_added,
            "words_removed": self.words_removed,
            "paragraphs": [p.to_dict() for p in self.paragraphs],
        }


def paragraphs_of(text: str) -> list[str]:
    """A normalised text's paragraphs, each with its words single-spaced."""
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def diff_texts(old_title: str, old_text: str, new_title: str, new_text: str) -> TextDiff:
    """The word-level diff between two versions of an article."""
    old_paras, new_paras = paragraphs_of(old_text), paragraphs_of(new_text)
    paragraphs = _detect_moves(list(_align(old_paras, new_paras)))
    title_ops = tuple(diff_words(old_title.split(), new_title.split()))
    added = removed = 0
    for p in paragraphs:
        for op in p.ops:
            if op.kind in ("insert", "replace"):
                added += len(op.new_text.split())
            if op.kind in ("delete", "replace"):
                removed += len(op.old_text.split())
    return TextDiff(old_title, new_title, title_ops, tuple(paragraphs), added, removed)


def word_changes(old: str, new: str) -> tuple[int, int]:
    """(words added, words removed) going from `old` to `new`."""
    d = diff_texts("", old, "", new)
    return d.words_added, d.words_removed


# -- alignment ----------------------------------------------------------------


def _opcodes(a: Sequence[str], b: Sequence[str]) -> Iterator[tuple[str, int, int, int, int]]:
    """SequenceMatcher's opcodes, guarded: the common prefix and suffix are
    matched directly, and a middle too costly to diff is one replace."""
    n, m = len(a), len(b)
    start = 0
    while start < n and start < m and a[start] == b[start]:
        start += 1
    end_a, end_b = n, m
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    if start:
        yield "equal", 0, start, 0, start
    mid_a, mid_b = a[start:end_a], b[start:end_b]
    if mid_a or mid_b:
        if not mid_a or not mid_b or _too_costly(mid_a, mid_b):
            tag = "insert" if not mid_a else "delete" if not mid_b else "replace"
            yield tag, start, end_a, start, end_b
        else:
            matcher = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                yield tag, start + i1, start + i2, start + j1, start + j2
    if end_a < n:
        yield "equal", end_a, n, end_b, m


def _too_costly(a: Sequence[str], b: Sequence[str]) -> bool:
    """Would SequenceMatcher be slow here? Its work grows with the number of
    equal pairs (a word repeated a thousand times on both sides is a million)
    and with len(a) * len(b) when matches are short and scattered."""
    if len(a) * len(b) <= MAX_PAIRS:
        return False
    if len(a) * len(b) > 16 * MAX_PAIRS:
        return True
    counts = Counter(b)
    return sum(counts[x] for x in a) > MAX_PAIRS // 4


def diff_words(old: Sequence[str], new: Sequence[str]) -> Iterator[DiffOp]:
    """Word runs between two word lists. A paragraph too long to diff word
    by word (a page scraped without paragraph breaks) is aligned sentence
    by sentence first, then diffed word by word inside the changed
    sentences."""
    if len(old) * len(new) > MAX_PAIRS:
        old_s, new_s = _sentences(old), _sentences(new)
        if len(old_s) > 1 or len(new_s) > 1:
            yield from _diff_sentences(old_s, new_s)
            return
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        yield DiffOp(tag, " ".join(old[i1:i2]), " ".join(new[j1:j2]))  # type: ignore[arg-type]


def _diff_sentences(old: list[str], new: list[str]) -> Iterator[DiffOp]:
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag == "equal":
            text = " ".join(old[i1:i2])
            yield DiffOp("equal", text, text)
            continue
        a = " ".join(old[i1:i2]).split()
        b = " ".join(new[j1:j2]).split()
        for op_tag, a1, a2, b1, b2 in _opcodes(a, b):
            yield DiffOp(op_tag, " ".join(a[a1:a2]), " ".join(b[b1:b2]))  # type: ignore[arg-type]


def _sentences(words: Sequence[str]) -> list[str]:
    """Words grouped into sentences: a word ending in . ! or ? ends one."""
    out: list[str] = []
    start = 0
    for k, word in enumerate(words):
        if word[-1] in ".!?" or word.endswith(('."', ".\u201d", "?\u201d", "!\u201d")):
            out.append(" ".join(words[start : k + 1]))
            start = k + 1
    if start < len(words):
        out.append(" ".join(words[start:]))
    return out


def _align(old: list[str], new: list[str]) -> Iterator[ParagraphDiff]:
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag == "equal":
            for k in range(i2 - i1):
                text = old[i1 + k]
                yield ParagraphDiff("equal", i1 + k, j1 + k, (DiffOp("equal", text, text),))
        elif tag == "delete":
            yield from (_deleted(i, old[i]) for i in range(i1, i2))
        elif tag == "insert":
            yield from (_inserted(j, new[j]) for j in range(j1, j2))
        else:
            yield from _pair_block(old, new, i1, i2, j1, j2)


def _deleted(i: int, text: str) -> ParagraphDiff:
    return ParagraphDiff("delete", i, None, (DiffOp("delete", text, ""),))


def _inserted(j: int, text: str) -> ParagraphDiff:
    return ParagraphDiff("insert", None, j, (DiffOp("insert", "", text),))


def _changed(i: int, j: int, old: str, new: str) -> ParagraphDiff:
    return ParagraphDiff("change", i, j, tuple(diff_words(old.split(), new.split())))


def _pair_block(
    old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int
) -> Iterator[ParagraphDiff]:
    """Paragraphs i1:i2 were replaced by j1:j2. Pair the ones that are the
    same paragraph edited (most words shared), in order; the rest are deleted
    or inserted. "More details to follow." replaced by three new paragraphs
    shares no words with them: it is deleted and they are inserted."""
    pairs = _similar_pairs(old[i1:i2], new[j1:j2])
    i, j = i1, j1
    for pi, pj in [*((i1 + a, j1 + b) for a, b in pairs), (i2, j2)]:
        # Deletions first, then insertions, as a reader goes through them.
        yield from (_deleted(k, old[k]) for k in range(i, pi))
        yield from (_inserted(k, new[k]) for k in range(j, pj))
        if pi < i2:
            yield _changed(pi, pj, old[pi], new[pj])
        i, j = pi + 1, pj + 1


def _similar_pairs(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """The in-order pairing of old and new paragraphs that shares the most
    words (a weighted longest common subsequence over similar pairs)."""
    n, m = len(old), len(new)
    sets_old = [set(p.casefold().split()) for p in old]
    sets_new = [set(p.casefold().split()) for p in new]
    positional = [(k, k) for k in range(min(n, m)) if _jaccard(sets_old[k], sets_new[k]) >= SIMILAR]
    # The common case (words edited here and there, paragraphs in place) and
    # the costly one (a large block) both pair by position.
    if (n == m and len(positional) == n) or n * m > MAX_PAIRING:
        return positional
    sim = [[_jaccard(so, sn) for sn in sets_new] for so in sets_old]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for a in range(n - 1, -1, -1):
        for b in range(m - 1, -1, -1):
            take = sim[a][b] + best[a + 1][b + 1] if sim[a][b] >= SIMILAR else 0.0
            best[a][b] = max(take, best[a + 1][b], best[a][b + 1])
    pairs: list[tuple[int, int]] = []
    a = b = 0
    while a < n and b < m:
        if sim[a][b] >= SIMILAR and best[a][b] == sim[a][b] + best[a + 1][b + 1]:
            pairs.append((a, b))
            a, b = a + 1, b + 1
        elif best[a + 1][b] >= best[a][b + 1]:
            a += 1
        else:
            b += 1
    return pairs


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _detect_moves(paragraphs: list[ParagraphDiff]) -> list[ParagraphDiff]:
    """A deleted paragraph that comes back unchanged as an inserted one was
    moved: report it once, at its new place, as `moved`."""
    deleted: dict[str, list[int]] = {}
    for k, p in enumerate(paragraphs):
        if p.kind == "delete":
            deleted.setdefault(p.old_text, []).append(k)
    if not deleted:
        return paragraphs
    out: list[ParagraphDiff | None] = list(paragraphs)
    for k, p in enumerate(paragraphs):
        if p.kind != "insert":
            continue
        slots = deleted.get(p.new_text)
        if not slots:
            continue
        gone = slots.pop(0)
        old = paragraphs[gone]
        out[gone] = None
        text = p.new_text
        out[k] = ParagraphDiff("moved", old.old_index, p.new_index, (DiffOp("equal", text, text),))
    return [p for p in out if p is not None]


def _join(parts: Iterator[str]) -> str:
    return " ".join(part for part in parts if part)


# -- rendering ------------------------------------------------------------------


def _mark(tag: str, text: str, inline_style: bool) -> str:
    if not text:
        return ""
    style = ""
    if inline_style:
        style = f' style="{INS_STYLE if tag == "ins" else DEL_STYLE}"'
    return f"<{tag}{style}>{html.escape(text)}</{tag}>"


def ops_html(ops: Sequence[DiffOp], *, inline_style: bool = False, side: str = "both") -> str:
    """Word runs as HTML: every token escaped, then wrapped in <ins>/<del>.
    `side` is "both" (inline diff), "old" or "new" (one column of a
    side-by-side view)."""
    parts = []
    for op in ops:
        if op.kind == "equal":
            parts.append(html.escape(op.old_text))
            continue
        if side in ("both", "old"):
            parts.append(_mark("del", op.old_text, inline_style))
        if side in ("both", "new"):
            parts.append(_mark("ins", op.new_text, inline_style))
    return " ".join(p for p in parts if p)


def paragraph_html(p: ParagraphDiff, *, inline_style: bool = False, side: str = "both") -> str:
    """One paragraph of the diff as a <p>; the `class` says its kind (the
    page's stylesheet uses it, feed content ignores it)."""
    body = ops_html(p.ops, inline_style=inline_style, side=side)
    note = ""
    if p.kind == "moved" and p.old_index is not None and p.new_index is not None:
        note = f' <small title="moved">(moved from paragraph {p.old_index + 1})</small>'
    return f'<p class="diff-{p.kind}">{body}{note}</p>'


def diff_html(d: TextDiff, *, inline_style: bool = False) -> str:
    """The inline diff of the text (not the headline) as HTML paragraphs."""
    return "\n".join(paragraph_html(p, inline_style=inline_style) for p in d.paragraphs)


def title_html(d: TextDiff, *, inline_style: bool = False) -> str:
    return ops_html(d.title_ops, inline_style=inline_style)


def side_by_side(d: TextDiff) -> list[tuple[str, str]]:
    """(old cell, new cell) HTML per paragraph row; a side with no such
    paragraph is empty."""
    rows = []
    for p in d.paragraphs:
        old = paragraph_html(p, side="old") if p.old_index is not None else ""
        new = paragraph_html(p, side="new") if p.new_index is not None else ""
        if p.kind == "moved":
            old = f'<p class="diff-moved"><small>(moved to paragraph {(p.new_index or 0) + 1})</small></p>'
        rows.append((old, new))
    return rows


def unified(
    old_title: str,
    old_text: str,
    new_title: str,
    new_text: str,
    from_label: str,
    to_label: str,
    context: int = 3,
) -> str:
    """A unified diff with one line per paragraph (the headline first), as
    `diff -u` and `patch` expect it."""
    lines = difflib.unified_diff(
        [old_title, *paragraphs_of(old_text)],
        [new_title, *paragraphs_of(new_text)],
        from_label,
        to_label,
        n=context,
        lineterm="",
    )
    return "".join(line + "\n" for line in lines)


def word_diff_lines(
    d: TextDiff,
    deleted: Callable[[str], str] = lambda s: f"[-{s}-]",
    inserted: Callable[[str], str] = lambda s: f"{{+{s}+}}",
    context: int = 1,
) -> Iterator[str]:
    """The diff as text for a terminal, `git diff --word-diff` style: the
    headline change, then each changed paragraph with `context` unchanged
    paragraphs around it. `deleted`/`inserted` mark the runs (colours on a
    terminal, [-...-] / {+...+} elsewhere)."""

    def runs(ops: Sequence[DiffOp]) -> str:
        parts = []
        for op in ops:
            if op.kind == "equal":
                parts.append(op.old_text)
                continue
            if op.old_text:
                parts.append(deleted(op.old_text))
            if op.new_text:
                parts.append(inserted(op.new_text))
        return " ".join(parts)

    if d.title_changed:
        yield f"Headline: {runs(d.title_ops)}"
        yield ""
    changed = [k for k, p in enumerate(d.paragraphs) if p.kind != "equal"]
    show = {k + off for k in changed for off in range(-context, context + 1)}
    skipped = False
    for k, p in enumerate(d.paragraphs):
        if k not in show:
            skipped = True
            continue
        if skipped:
            yield "  ..."
            yield ""
            skipped = False
        line = runs(p.ops)
        if p.kind == "moved" and p.old_index is not None:
            line += f" (moved from paragraph {p.old_index + 1})"
        yield line
        yield ""
    if skipped:
        yield "  ..."
