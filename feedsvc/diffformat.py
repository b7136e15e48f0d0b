"""Pure: a diff of two versions (textdiff.TextDiff) written out: HTML
marks (classes for the pages, inline styles for feed content), paragraphs
side by side, a unified diff, and word-diff lines for a terminal."""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable, Iterator, Sequence

from feedsvc.textdiff import DiffOp, ParagraphDiff, TextDiff, paragraphs_of

# Inline styles for feed content: feed readers and mail clients strip <style>
# and classes, so the marks must carry their own look.
INS_STYLE = "background-color:#d7f5dd;color:#0b3d16;text-decoration:underline"
DEL_STYLE = "background-color:#fbdcdc;color:#5c0a0a;text-decoration:line-through"


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
