"""Pure: normalise article text, hash it, decide whether a revision happened
and what kind it is. Nothing here does I/O or reads the clock."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from feedsvc.models import LatestVersion
from feedsvc.patterns import LinePattern
from feedsvc.text import strip_controls
from feedsvc.textdiff import TextDiff, diff_texts

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

# A count as templates print it ("12", "1,204", "1.2K", "3 Tsd.") and what
# is counted, in English, German, French, Spanish, Italian and Polish. Never
# votes or seats: a results table's cell is one line of text too.
_COUNT = r"\d[\d,.\u00a0\u202f]*\s?(?:[km]|tsd\.?|mio\.?)?"
_COUNTED = (
    r"comments?|responses?|repl(?:y|ies)|shares?|claps?|likes?|views?|reads?|"
    r"reactions?|retweets?|thoughts?|"
    r"kommentare?|aufrufe|"
    r"commentaires?|réactions?|vues|partages|"
    r"comentarios?|visitas|vistas|lecturas|"
    r"commenti|visualizzazioni|letture|"
    r"komentarz[ey]?|komentarzy|wyświetle[nń]|odsłon"
)

# Lines that page templates put around an article: skip links, comment forms,
# share and like widgets, image credits, counters and relative timestamps.
# Scrapes and extractors let them through (the seed text carries most of
# them), and they change without the article changing, so a paragraph that is
# one of these, whole, is dropped by normalise(). Whole-line matches only: an
# article sentence that merely mentions "comments" is kept.
_BOILERPLATE = (
    r"skip to (main )?content",
    r"leave a (reply|comment)( cancel reply)?",
    r"cancel reply",
    r"(post|submit) comment",
    r"fill in your details below or click an icon to log in:?( logo)?",
    r"you are commenting using your( \w+(\.com)?)? account\.? ?(\( ?)?log ?out ?/ ?change ?\)?",
    r"\(? ?log ?out ?/ ?change ?\)",
    r"(twitter|facebook|google|wordpress\.com|linkedin) (picture|photo)",
    r"connecting to %s",
    r"%d bloggers? like this:?",
    r"like this:?( like)?( loading\.{3}|…)?",
    r"loading\.{3}|loading…",
    r"share this( article| story| post)?:?",
    r"(share|share on|click to share on) (twitter|facebook|linkedin|whatsapp|email|reddit)( \(opens in new window\))?",
    r"notify me of (new|follow-up) (comments|posts)( via email)?\.?",
    r"(image|photo|picture|photograph|header image|featured image)s? ?(credit|credits|courtesy|source)s?:.*",
    r"advertisement|sponsored content|story continues below( advertisement)?",
    r"related( stories| articles| posts)?:?|read more:?|most read|recommended( for you)?",
    r"sign up for (more like this|our newsletter)\.?",
    r"(updated )?(\d+|an?|one) (second|minute|hour|day)s? ago|(updated )?just now",
    # a counter, the count either side of its noun: "3 Comments", "Comments
    # (12)", "Comments: 12", "1.2K shares", "Viewed 1,234 times", "12
    # responses to “Headline”" (WordPress's comment heading), in the languages
    # news is commonly written in
    rf"(?:no|{_COUNT}) (?:{_COUNTED})(?: (?:to|on) [“\"«„].*)?",
    rf"(?:{_COUNTED}|page ?views|shares? on \w+)\s?(?::|\()?\s?{_COUNT}\)?",
    rf"viewed {_COUNT} times|{_COUNT} times viewed|{_COUNT} (?:page ?views|times read)",
)
BOILERPLATE_LINE = re.compile(
    r"^(?:" + "|".join(f"(?:{p})" for p in _BOILERPLATE) + r")$", re.IGNORECASE
)


def is_boilerplate(line: str) -> bool:
    """Is this whole line page furniture rather than article text?"""
    return bool(BOILERPLATE_LINE.match(_SPACE.sub(" ", line).strip()))


# More than any marker is long: see classify().
MAX_MARKER_WORDS = 20

CORRECTION_NOTICE = re.compile(
    # [^\S\n]: spaces but not newlines, so that no line start scans past
    # its own line (\s* made a text of many blank lines quadratic).
    r"^[^\S\n]*(correction|clarification|editor['\u2019]?s note|an earlier version of this)",
    re.IGNORECASE | re.MULTILINE,
)


def normalise(text: str, ignore: Sequence[LinePattern] = ()) -> str:
    """Canonical text of an article: Unicode NFC, whitespace collapsed inside
    each paragraph, boilerplate lines (BOILERPLATE_LINE) and lines matching
    an `ignore` pattern dropped, one blank line between paragraphs. Two texts
    that differ only in what this drops are the same revision."""
    text = unicodedata.normalize("NFC", strip_controls(text)).replace("\r\n", "\n")
    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in text.replace("\r", "\n").split("\n"):
        line = _SPACE.sub(" ", raw_line).strip()
        if line and (BOILERPLATE_LINE.match(line) or any(p.search(line) for p in ignore)):
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


# Chinese and Japanese are written without spaces between words: counted by
# whitespace, a whole Japanese article is a handful of "words" and min_words
# marks every version of it suspect. Each Han ideograph and each kana counts
# as a word, as word processors count East Asian text; CJK punctuation and
# full-width forms separate words. Korean puts spaces between words and is
# counted by them.
_CJK_CHAR = (
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han
    "\U00020000-\U0003134f"  # Han, supplementary planes
)
_CJK_SEPARATOR = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_WORD = re.compile(f"[{_CJK_CHAR}]|[^\\s{_CJK_CHAR}{_CJK_SEPARATOR}]+")


def word_count(text: str) -> int:
    """Words in `text`: runs between spaces, with each Chinese or Japanese
    character a word of its own."""
    return sum(1 for _ in _WORD.finditer(text))


def _squash(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.casefold()).split())


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
    # The diff against the latest version, for what else weighs a revision
    # (feedsvc.changes); None for a first version or no change.
    diff: TextDiff | None = field(default=None, compare=False, repr=False)


def decide(
    latest: LatestVersion | None,
    known_hashes: Mapping[str, int],
    title: str,
    text: str,
    markers: Sequence[str] | None = None,
) -> Decision:
    """Compare a normalised title and text with the latest stored version.
    `markers` from developing_markers() (the built-in list when None)."""
    sha = content_hash(title, text)
    if latest is None:
        return Decision(True, sha, "initial", None, word_count(text), 0)
    if sha == latest.sha256:
        return Decision(False, sha)
    d = diff_texts(latest.title, latest.text, title, text)
    revert_of = known_hashes.get(sha)
    change_class = classify(
        latest.title, latest.text, title, text, revert_of, markers, d.words_added, d.words_removed
    )
    return Decision(True, sha, change_class, revert_of, d.words_added, d.words_removed, d)


def classify(
    old_title: str,
    old_text: str,
    new_title: str,
    new_text: str,
    revert_of: int | None = None,
    markers: Sequence[str] | None = None,
    words_added: int | None = None,
    words_removed: int | None = None,
) -> str:
    """One word for what a revision did, so people can filter for it:
    revert, headline, correction, append, deletion or edit. Pass the diff's
    word counts when you have them, to spare diffing twice."""
    if revert_of is not None:
        return "revert"
    if old_text == new_text:
        return "headline"
    if len(CORRECTION_NOTICE.findall(new_text)) > len(CORRECTION_NOTICE.findall(old_text)):
        return "correction"
    if markers is None:
        markers = developing_markers()
    # An append removes at most a developing marker (a dozen words): skip
    # the word-by-word check when the diff already says more went.
    maybe_append = words_removed is None or words_removed <= MAX_MARKER_WORDS
    if maybe_append and _appended(old_text, new_text, markers):
        return "append"
    if words_added is None or words_removed is None:
        d = diff_texts("", old_text, "", new_text)
        words_added, words_removed = d.words_added, d.words_removed
    if words_removed and not words_added:
        return "deletion"
    return "edit"


def _appended(old_text: str, new_text: str, markers: Sequence[str]) -> bool:
    """Was text only added, at the end of the story or where a developing
    marker stood? The marker itself may go ("More details to follow." giving
    way to the details is the typical append, not an edit: it was a promise
    of more, not part of the story), and page furniture after it may stay.
    Words are compared loosely: case and punctuation folded."""
    old, slots = _core_words(old_text, markers)
    new, _ = _core_words(new_text, markers)
    if len(new) <= len(old):
        return False
    prefix = 0
    while prefix < len(old) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < len(old) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return any(k <= prefix and len(old) - k <= suffix for k in (*slots, len(old)))


def _core_words(text: str, markers: Sequence[str]) -> tuple[list[str], list[int]]:
    """The text's words with developing markers taken out, and the word
    positions where a marker stood."""
    sentinel = "\x00"
    squashed = f" {_squash(text)} "
    for marker in markers:
        squashed = squashed.replace(f" {marker} ", f" {sentinel} ")
    words: list[str] = []
    slots: list[int] = []
    for word in squashed.split():
        if word == sentinel:
            slots.append(len(words))
        else:
            words.append(word)
    return words, slots


def looks_truncated(text: str, latest_text: str | None, min_words: int) -> bool:
    """The extraction guard: is this extracted article more likely a failure
    (a paywall, an error page served with 200, a template change) than a
    revision? Empty, shorter than `min_words`, or less than half the words
    of the latest version. Small edits ("12 dead" -> "15 dead") pass."""
    words = word_count(text)
    if words < min_words:
        return True
    return latest_text is not None and words * 2 < word_count(latest_text)
