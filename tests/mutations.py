"""Mutations of a real page, for revision fidelity: noise outside the
article (which must never make a revision) and real edits inside it (each
of which must). Shared by tests/test_extract_corpus.py and
bench/revisions_corpus.py.

The article is located by the corpus's own `with` snippets (text the
annotators marked as the article's), never by the extractor under test: the
block holding the longest snippet is where edits happen and after which a
comment counter is put.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

_BLOCKS = ("p", "li", "blockquote", "td", "dd", "h2", "h3", "h4", "div", "section", "article")
_WORD = re.compile(r"\b[^\W\d_]{5,}\b")
_NUMBER = re.compile(r"(?<![\w.,/:-])\d{1,6}(?![\w/:-]|[.,]\d)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜÉÈÀ])")


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Noise:
    """One state of a page's furniture."""

    readers: int
    minutes: int
    comments: int
    most_read: tuple[str, ...]
    nonce: str
    buster: str
    ad: str


MOST_READ = (
    "Mayor opens the new riverside park after a decade of delays",
    "Rail strike called off at the last minute",
    "Five things to do in the city this weekend",
    "School league tables: how your area did",
)
NOISE = (
    Noise(1204, 5, 3, MOST_READ, "n0nce3f1a", "1733090001", "Sponsored: Refinance your home today"),
    Noise(
        1377,
        12,
        4,
        ("Storm warning issued for the coast overnight", *MOST_READ),
        "b7c2e9d04",
        "1733090937",
        "Sponsored: Ten hotels that will surprise you",
    ),
)


_PARSER = lxml.html.HTMLParser(encoding="utf-8")


def _parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=_PARSER)


def _serialise(doc: lxml.html.HtmlElement) -> str:
    return "<!DOCTYPE html>\n" + lxml.html.tostring(doc, encoding="unicode")


def anchor(doc: lxml.html.HtmlElement, snippets: tuple[str, ...]) -> etree._Element | None:
    """The deepest block element holding the longest `with` snippet that
    one block holds whole, and only one: a snippet found in two separate
    blocks (a teaser and the article, say) is passed over."""
    for snippet in sorted(snippets, key=len, reverse=True):
        want = _squash(snippet)
        if len(want) < 15:
            continue
        best: etree._Element | None = None
        ambiguous = False
        for el in doc.iter(*_BLOCKS):
            if want not in _squash(el.text_content()):
                continue
            if best is None or best in el.iterancestors():
                best = el
            elif el not in best.iterancestors():
                ambiguous = True
                break
        if best is not None and not ambiguous:
            return best
    return None


def with_noise(html: str, snippets: tuple[str, ...], state: int) -> str:
    """The page with furniture in state `state` (0 or 1): a readers counter
    and "Updated N minutes ago" in a header strip, an ad slot, a "N Comments"
    link and "Viewed N times" / "N.NK shares" counters right after the
    article's block, a "Most read" list at the end,
    inline scripts with a nonce and a timestamp, and a cache-busting query
    string on every script, stylesheet and image."""
    n = NOISE[state]
    doc = _parse(html)
    for el in doc.iter("script", "link", "img"):
        attr = "href" if el.tag == "link" else "src"
        value = el.get(attr)
        if value:
            el.set(attr, f"{value}{'&' if '?' in value else '?'}cb={n.buster}")
        if el.tag == "script" and el.get("nonce") is None:
            el.set("nonce", n.nonce)
    head = doc.find("head")
    if head is not None:
        script = etree.SubElement(head, "script", nonce=n.nonce)
        script.text = f'window.__page = {{"ts": {n.buster}, "nonce": "{n.nonce}"}};'
    body = doc.find("body")
    if body is None:
        return _serialise(doc)
    strip = lxml.html.fragment_fromstring(
        f'<div class="site-strip"><span class="live-count">{n.readers} people are reading '
        f'this</span> <span class="updated">Updated {n.minutes} minutes ago</span></div>'
    )
    ad = lxml.html.fragment_fromstring(
        f'<div class="ad-slot" id="ad-top" data-slot="{n.buster}">'
        f'<a href="https://ads.example/click?c={n.buster}">{n.ad}</a></div>'
    )
    body.insert(0, ad)
    body.insert(0, strip)
    at = anchor(doc, snippets)
    if at is not None and at.getparent() is not None:
        count = lxml.html.fragment_fromstring(
            f'<div class="comment-count"><a href="#comments">{n.comments} Comments</a></div>'
        )
        stats = lxml.html.fragment_fromstring(
            f'<div class="post-stats"><p class="views">Viewed {n.readers * 7:,} times</p>'
            f'<p class="shares">{n.readers / 1000:.1f}K shares</p></div>'
        )
        at.addnext(stats)
        at.addnext(count)
    items = "".join(f'<li><a href="/story/{i}">{t}</a></li>' for i, t in enumerate(n.most_read))
    body.append(
        lxml.html.fragment_fromstring(
            f'<aside class="most-read"><h2>Most read</h2><ol>{items}</ol></aside>'
        )
    )
    tail = etree.SubElement(body, "script", nonce=n.nonce)
    tail.text = f"var pageviews = {n.readers * 31}; var rendered = '{n.buster}';"
    return _serialise(doc)


@dataclass(frozen=True)
class Edit:
    """A real edit of the article: the page after it, and how to see it in
    stored text (`present` must be there, `absent` must not)."""

    kind: str  # word, number, append, removal
    html: str
    present: str = ""
    absent: str = ""


def _text_slots(el: etree._Element) -> list[tuple[etree._Element, str]]:
    """(element, "text" or "tail") of every text node inside `el`, longest first."""
    slots: list[tuple[etree._Element, str]] = []
    for node in el.iter():
        if not isinstance(node.tag, str) or node.tag in ("script", "style"):
            continue
        if node.text and node.text.strip():
            slots.append((node, "text"))
        if node is not el and node.tail and node.tail.strip():
            slots.append((node, "tail"))
    return sorted(slots, key=lambda s: -len(getattr(s[0], s[1]) or ""))


def _window(text: str, start: int, end: int) -> str:
    """text[start:end] with up to two words either side, as they stand."""
    left = re.search(r"(?:\S+\s+){0,2}\S*$", text[:start])
    right = re.match(r"\S*(?:\s+\S+){0,2}", text[end:])
    return _squash(
        (left.group(0) if left else "") + text[start:end] + (right.group(0) if right else "")
    )


def edits(html: str, snippets: tuple[str, ...]) -> list[Edit]:
    """Four cumulative edits of the article block (see anchor()): one word
    replaced, one number changed, a paragraph appended, a sentence removed.
    An edit the block has no material for (no number, one sentence) is
    left out."""
    out: list[Edit] = []
    doc = _parse(html)
    first = anchor(doc, snippets)
    if first is None:
        return out
    # The block stays where it is (an edit changes its text, an appended
    # paragraph comes after it): found again by its path, not its text.
    path = doc.getroottree().getpath(first)

    def current() -> tuple[lxml.html.HtmlElement, etree._Element | None]:
        d = _parse(out[-1].html) if out else doc
        found = d.getroottree().xpath(path)
        return d, found[0] if found else None

    d, at = current()
    if at is None:
        return out
    for node, attr in _text_slots(at):
        text = getattr(node, attr)
        m = _WORD.search(text)
        if m:
            new = "reportedly" if m.group(0).lower() != "reportedly" else "allegedly"
            edited = text[: m.start()] + new + text[m.end() :]
            setattr(node, attr, edited)
            window = _window(edited, m.start(), m.start() + len(new))
            out.append(Edit("word", _serialise(d), present=window))
            break
    d, at = current()
    if at is None:
        return out
    for node, attr in _text_slots(at):
        text = getattr(node, attr)
        m = _NUMBER.search(text)
        if m:
            value = str(int(m.group(0)) + 7)
            edited = text[: m.start()] + value + text[m.end() :]
            setattr(node, attr, edited)
            window = _window(edited, m.start(), m.start() + len(value))
            out.append(Edit("number", _serialise(d), present=window))
            break
    d, at = current()
    if at is None:
        return out
    sentence = (
        "Officials confirmed on Friday evening that the figures would be reviewed again "
        "next month, after new information reached the committee."
    )
    added = etree.Element(at.tag if at.tag in ("p", "li", "blockquote", "dd") else "p")
    added.text = sentence
    if at.tag in ("div", "section", "article", "td"):
        # the block is the article's container (a post body of <br>-separated
        # lines, say): a new paragraph goes at its end, as an author adds one,
        # not after it among the template's furniture
        at.append(added)
    else:
        at.addnext(added)
    out.append(Edit("append", _serialise(d), present=sentence))
    d, at = current()
    if at is None:
        return out
    for node, attr in _text_slots(at):
        text = getattr(node, attr)
        parts = _SENTENCE.split(text)
        if len(parts) >= 2 and len(parts[-1].strip()) >= 25 and len(parts[0].strip()) >= 10:
            removed = parts[-1].strip()
            setattr(node, attr, text[: text.rstrip().rfind(removed)].rstrip() + " ")
            out.append(Edit("removal", _serialise(d), absent=removed))
            break
    return out


_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")


def applied(edit: Edit, stored: str) -> bool:
    """Is the edit visible in stored text? (Invisible characters, such as
    soft hyphens, aside.)"""
    flat = _squash(_INVISIBLE.sub("", stored))
    if edit.present and _squash(_INVISIBLE.sub("", edit.present)) not in flat:
        return False
    return not (edit.absent and _squash(_INVISIBLE.sub("", edit.absent)) in flat)


def extracted(block: str, stored: str) -> bool:
    """Is the article's block (its text, as anchor() found it) in the stored
    text? Its first and its last words both: a block that merely starts like
    another one (a recipe card's summary repeating the intro's first
    sentence) is not extracted because that other one is."""
    flat, want = _squash(_INVISIBLE.sub("", stored)), _squash(_INVISIBLE.sub("", block))
    return bool(want) and want[:60] in flat and want[-60:] in flat
