"""Pure: what a revision changed that readers care about, as data.

- numbers whose value changed in place ("12 people were killed" -> "15
  people were killed": 12 -> 15, with the words after it as context);
- quotes added, removed or altered (text between quotation marks: straight
  and curly English quotes, German „…“ and »…«, French « … »);
- names that appear or disappear (runs of capitalised words; no model);
- whether the revision is a stealth edit: it changed the substance (the
  headline, a number, a quote, or more than `min_words` words outside
  appended text) and told nobody (no correction, update or editor's note
  appeared, and the page's own modified date did not move).

Everything here reads upstream text, which is hostile: every regex is linear
(each delimited run is scanned once, up to the next delimiter), and the
longest string any of them sees whole is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from feedsvc.diff import ParagraphDiff, TextDiff, diff_texts, paragraphs_of
from feedsvc.models import LatestVersion
from feedsvc.revisions import CORRECTION_NOTICE

# Words of context shown after (or, at the end of a sentence, before) a
# changed number.
CONTEXT_WORDS = 3
# A quote longer than this is more likely two unbalanced marks than a quote.
MAX_QUOTE_CHARS = 600
# Default of the feed setting `stealth_words`.
STEALTH_WORDS = 5

# A number as a word of text shows it: 12, 1,200, 3.5, -4, 12%, $5m, 15th.
# Matched against one word at a time (a bounded string), never the text.
_NUMBER = re.compile(
    r"[-+\u2212]?[$€£¥]?(\d{1,3}(?:[,\u202f\u00a0'.]\d{3})+|\d+)(?:[.,]\d+)?"
    r"(?:%|st|nd|rd|th|m|bn|k)?"
)
_EDGE_PUNCT = "\"'\u201c\u201d\u201e\u201a\u2018\u2019\u00ab\u00bb()[]{}<>:;,.!?\u2026\u2014\u2013"

# One alternative per quoting style. Each scans from its opening mark to the
# first closing mark or line end and never backtracks into another run.
_QUOTE = re.compile(
    r'"([^"\n]+)"'  # straight
    r"|\u201c([^\u201c\u201d\n]+)\u201d"  # English curly “…”
    r"|\u201e([^\u201e\u201c\u201d\n]+)[\u201c\u201d]"  # German „…“ (or „…”)
    r"|\u00ab([^\u00ab\u00bb\n]+)\u00bb"  # French « … »
    r"|\u00bb([^\u00ab\u00bb\n]+)\u00ab"  # German »…«
)
_SPACES = re.compile(r"\s+")

# Notices that tell readers a story changed. CORRECTION_NOTICE (what makes
# the `correction` class) and update notices. Anchored at a paragraph start;
# [ \t]* (not \s*) so a run of blank lines is not rescanned from every line.
_UPDATE_NOTICE = re.compile(
    r"^[ \t]*(?:\W{0,3})(?:update[ds]?\b|last updated\b|editor['\u2019]?s note"
    r"|this (?:article|story|post|piece) (?:has been|was) (?:updated|amended|changed|corrected))",
    re.IGNORECASE | re.MULTILINE,
)

# Capitalised words that start sentences and headlines without naming
# anyone; dropped from the front of a run of capitalised words.
_NOT_NAMES = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "it",
        "its",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "yet",
        "you",
        "after",
        "before",
        "during",
        "while",
        "since",
        "until",
        "update",
        "correction",
        "mr",
        "mrs",
        "ms",
        "dr",
    ]
)
_SENTENCE_END = ".!?:;…\u2014"


@dataclass(frozen=True)
class NumberChange:
    """A number whose value changed where it stood."""

    old: str
    new: str
    context: str  # a few words around it, from the new text

    def __str__(self) -> str:
        return f"{self.old} -> {self.new}" + (f" ({self.context})" if self.context else "")

    def to_dict(self) -> dict[str, str]:
        return {"old": self.old, "new": self.new, "context": self.context}


QuoteKind = Literal["added", "removed", "altered"]


@dataclass(frozen=True)
class QuoteChange:
    kind: QuoteKind
    old: str | None
    new: str | None

    def __str__(self) -> str:
        if self.kind == "altered":
            return f"“{self.old}” -> “{self.new}”"
        return f"{self.kind}: “{self.new if self.kind == 'added' else self.old}”"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Changes:
    """What one revision did to numbers, quotes and names, in reading order."""

    numbers: tuple[NumberChange, ...] = ()
    quotes: tuple[QuoteChange, ...] = ()
    names_added: tuple[str, ...] = ()
    names_removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.numbers or self.quotes or self.names_added or self.names_removed)

    def lines(self) -> list[str]:
        """One line per kind, for feed content and the terminal:
        "Numbers: 12 -> 15 (people were killed)"."""
        out = []
        if self.numbers:
            out.append("Numbers: " + "; ".join(str(n) for n in self.numbers))
        if self.quotes:
            out.append("Quotes: " + "; ".join(str(q) for q in self.quotes))
        if self.names_added:
            out.append("Names added: " + ", ".join(self.names_added))
        if self.names_removed:
            out.append("Names removed: " + ", ".join(self.names_removed))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "numbers": [n.to_dict() for n in self.numbers],
            "quotes": [q.to_dict() for q in self.quotes],
            "names_added": list(self.names_added),
            "names_removed": list(self.names_removed),
        }


# -- numbers -------------------------------------------------------------------


def number_of(word: str) -> str | None:
    """The number a word is, as written ("1,200", "12%"), or None."""
    core = word.strip(_EDGE_PUNCT)
    if not core or len(core) > 40 or not any(c.isdigit() for c in core):
        return None
    return core if _NUMBER.fullmatch(core) else None


def _value(number: str) -> str:
    """What a number says, without the way it is written: 1,200 == 1200."""
    return re.sub(r"[,\u202f\u00a0'+]", "", number.replace("\u2212", "-"))


def number_changes(d: TextDiff) -> tuple[NumberChange, ...]:
    """Numbers replaced by other numbers in place: inside a changed
    paragraph (or the headline), a run of words that held N numbers
    replaced by a run that holds N numbers, paired in order."""
    found: list[NumberChange] = []
    runs = [d.title_ops] + [p.ops for p in d.paragraphs if p.kind == "change"]
    for ops in runs:
        new_words = [w for op in ops for w in op.new_text.split()]
        pos = 0
        for op in ops:
            replaced = op.new_text.split()
            if op.kind == "replace":
                old_nums = [n for w in op.old_text.split() if (n := number_of(w))]
                new_at = [(pos + k, n) for k, w in enumerate(replaced) if (n := number_of(w))]
                if old_nums and len(old_nums) == len(new_at):
                    for old, (at, new) in zip(old_nums, new_at, strict=True):
                        if _value(old) != _value(new):
                            found.append(NumberChange(old, new, context_of(new_words, at)))
            pos += len(replaced)
    return tuple(found)


def context_of(words: Sequence[str], pos: int) -> str:
    """A few words after position `pos` up to the sentence's end; the few
    before it when the number ends its sentence."""
    after: list[str] = []
    if not words[pos].endswith(tuple(_SENTENCE_END)):
        for w in words[pos + 1 : pos + 1 + CONTEXT_WORDS]:
            after.append(w)
            if w.endswith(tuple(_SENTENCE_END)):
                break
    if after:
        return " ".join(after).strip(_EDGE_PUNCT)
    before = words[max(0, pos - CONTEXT_WORDS) : pos]
    return " ".join(before).strip(_EDGE_PUNCT)


# -- quotes --------------------------------------------------------------------


def quotes_of(text: str) -> list[str]:
    """Quoted passages in reading order, whitespace collapsed, each once."""
    seen: dict[str, None] = {}
    for m in _QUOTE.finditer(text):
        body = next(g for g in m.groups() if g is not None)
        if len(body) > MAX_QUOTE_CHARS:
            continue
        q = _SPACES.sub(" ", body).strip(" \u00a0\u202f")
        if any(c.isalnum() for c in q):
            seen.setdefault(q, None)
    return list(seen)


def quote_changes(old_text: str, new_text: str) -> tuple[QuoteChange, ...]:
    """Quotes that went, came, or were reworded. A removed quote and an
    added one sharing most words (or one being part of the other) are one
    quote altered."""
    old_q, new_q = quotes_of(old_text), quotes_of(new_text)
    removed = [q for q in old_q if q not in set(new_q)]
    added = [q for q in new_q if q not in set(old_q)]
    out: list[QuoteChange] = []
    for q in removed:
        match = max(added, key=lambda a: _likeness(q, a), default=None)
        if match is not None and _likeness(q, match) >= 0.5:
            added.remove(match)
            out.append(QuoteChange("altered", q, match))
        else:
            out.append(QuoteChange("removed", q, None))
    out += [QuoteChange("added", None, a) for a in added]
    return tuple(out)


def _likeness(a: str, b: str) -> float:
    """Shared words over all words (1.0 when one quote holds the other)."""
    wa, wb = set(_words(a)), set(_words(b))
    if not wa or not wb:
        return 0.0
    if wa <= wb or wb <= wa:
        return 1.0
    return len(wa & wb) / len(wa | wb)


def _words(text: str) -> list[str]:
    return [w.strip(_EDGE_PUNCT).casefold() for w in text.split() if w.strip(_EDGE_PUNCT)]


# -- names ---------------------------------------------------------------------


def names_of(text: str) -> list[str]:
    """Runs of capitalised words in reading order, each once: "Jane Smith",
    "New South Wales". A single capitalised word opening a sentence is not
    a name (it is capitalised for the sentence); common opening words
    ("The", "But") are dropped from the front of a run."""
    seen: dict[str, None] = {}
    for paragraph in paragraphs_of(text):
        for run, opens_sentence in _capital_runs(paragraph.split()):
            while run and run[0].casefold() in _NOT_NAMES:
                run, opens_sentence = run[1:], False
            if not run or (len(run) == 1 and opens_sentence):
                continue
            seen.setdefault(" ".join(run), None)
    return list(seen)


def _capital_runs(words: Sequence[str]) -> Iterator[tuple[list[str], bool]]:
    """Runs of capitalised words, each with whether it opens a sentence. A
    run ends at a word that is not capitalised or that ends a clause."""
    run: list[str] = []
    run_opens = False
    sentence_start = True
    for raw in words:
        word = raw.strip(_EDGE_PUNCT)
        if word and word[0].isupper() and word[0].isalpha():
            if not run:
                run_opens = sentence_start
            run.append(word.removesuffix("'s").removesuffix("\u2019s"))
        elif run:
            yield run, run_opens
            run = []
        closing = raw.rstrip("\"'\u201d\u00bb)")
        if run and closing.endswith(tuple(_SENTENCE_END + ",")):
            yield run, run_opens
            run = []
        sentence_start = closing.endswith(tuple(".!?\u2026:")) or not word
    if run:
        yield run, run_opens


def name_changes(old_text: str, new_text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names that appear, names that disappear)."""
    old, new = names_of(old_text), names_of(new_text)
    old_set, new_set = set(old), set(new)
    return tuple(n for n in new if n not in old_set), tuple(n for n in old if n not in new_set)


# -- all of it -----------------------------------------------------------------


def find_changes(
    old_title: str, old_text: str, new_title: str, new_text: str, d: TextDiff | None = None
) -> Changes:
    """Numbers, quotes and names a revision changed. Pass the diff when you
    have it, to spare diffing twice."""
    if d is None:
        d = diff_texts(old_title, old_text, new_title, new_text)
    old_all, new_all = f"{old_title}\n\n{old_text}", f"{new_title}\n\n{new_text}"
    added, removed = name_changes(old_all, new_all)
    return Changes(number_changes(d), quote_changes(old_all, new_all), added, removed)


# -- stealth -------------------------------------------------------------------


def notices(text: str) -> set[str]:
    """The paragraphs of a text that tell readers it changed: corrections,
    clarifications, editor's notes (CORRECTION_NOTICE, which makes the
    `correction` class) and update notices ("Update:", "This article has
    been amended")."""
    return {
        p
        for p in paragraphs_of(text)
        if CORRECTION_NOTICE.match(p) or _UPDATE_NOTICE.match(p[:200])
    }


def told_readers(old_text: str, new_text: str) -> bool:
    """Did a notice appear, or an existing one change ("Updated 10:15" ->
    "Updated 11:30")?"""
    before = notices(old_text)
    return any(n not in before for n in notices(new_text))


def substantive_words(d: TextDiff) -> int:
    """Words added and removed outside appended text. Appended text is whole
    new paragraphs before the first or after the last paragraph kept from
    the old version: a live blog's new post on top, a developing story's
    new paragraphs at the end."""
    kept = [k for k, p in enumerate(d.paragraphs) if p.old_index is not None]
    first, last = (kept[0], kept[-1]) if kept else (len(d.paragraphs), -1)
    appended = sum(
        _words_in(p)
        for k, p in enumerate(d.paragraphs)
        if p.kind == "insert" and (k < first or k > last)
    )
    return max(0, d.words_added + d.words_removed - appended)


def _words_in(p: ParagraphDiff) -> int:
    return len(p.new_text.split())


def is_stealth(
    change_class: str,
    old_text: str,
    new_text: str,
    d: TextDiff,
    changes: Changes,
    *,
    min_words: int = STEALTH_WORDS,
    old_page_date: datetime | None = None,
    new_page_date: datetime | None = None,
) -> bool:
    """A stealth edit changes the substance and tells nobody. Substance: the
    headline, a number, a quote, or more than `min_words` words outside
    appended text. Telling: a correction, update or editor's note appears
    (or changes), or the page's own modified date moves (where the page has
    one on both sides). First versions, appends and corrections never are."""
    if change_class in ("initial", "append", "correction"):
        return False
    substance = (
        d.title_changed
        or bool(changes.numbers)
        or bool(changes.quotes)
        or substantive_words(d) > min_words
    )
    if not substance:
        return False
    if told_readers(old_text, new_text):
        return False
    dated = old_page_date is not None and new_page_date is not None
    return not (dated and old_page_date != new_page_date)


def summary_lines(changes: Changes, stealth: bool) -> list[str]:
    """The lines a revision entry's content shows about its substance."""
    return (["Stealth edit: no correction or update notice"] if stealth else []) + changes.lines()


def stealth_edit(
    latest: LatestVersion,
    new_text: str,
    change_class: str,
    d: TextDiff,
    *,
    page_date: datetime | None,
    min_words: int = STEALTH_WORDS,
) -> bool:
    """is_stealth() for a revision about to be stored over `latest`."""
    changes = find_changes(latest.title, latest.text, d.new_title, new_text, d)
    return is_stealth(
        change_class,
        latest.text,
        new_text,
        d,
        changes,
        min_words=min_words,
        old_page_date=latest.page_date,
        new_page_date=page_date,
    )
