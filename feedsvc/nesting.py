"""How deep HTML nests, counted as the parsers build it, and the tags
that nest past MAX_DEPTH dropped (their text kept) before any parser sees
the page: libxml2 silently drops everything below depth 255, and nh3
(html5ever) takes time quadratic in the depth. One linear pass over the
tags, with the HTML parsers' rules for end tags a page may omit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# The block elements: a line break in plain text (text.html_to_text), and
# end tags that close what was left open inside them.
BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    ]
)


# Deeper nesting than this is flattened before any HTML parser sees it:
# libxml2 silently drops everything below depth 255, and nh3 (html5ever)
# takes time quadratic in the depth (50,000 nested <div>s: 14 s).
MAX_DEPTH = 200
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


# Elements whose content is text to both parsers, not markup: a "<div>" in
# a script's string or a style sheet opens nothing.
_RAW_TEXT = frozenset(
    ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"]
)

_RAW_TEXT_END = {name: re.compile(f"</{name}", re.IGNORECASE) for name in _RAW_TEXT}


def _tags(value: str) -> Iterator[tuple[int, int, bool, str, bool]]:
    """Each tag of `value` as (start, end, closing, lowercased name,
    self-closing), in order; comments and the content of raw-text elements
    (<script>, <style>, ...) are skipped, as parsers skip them. A
    hand-written scan rather than a regex: every character is looked at a
    bounded number of times, so no input (a 300,000 "<a " with no ">", say)
    makes it quadratic."""
    pos, n = 0, len(value)
    while (start := value.find("<", pos)) >= 0:
        if value.startswith("<!--", start):
            close = value.find("-->", start + 4)
            if close < 0:
                return  # the rest is one comment
            pos = close + 3
            continue
        i = start + 1
        closing = i < n and value[i] == "/"
        if closing:
            i += 1
        j = i
        while j < n and (value[j].isascii() and (value[j].isalnum() or value[j] in ":-")):
            j += 1
        if j == i or not value[i].isalpha():
            pos = start + 1
            continue
        end = value.find(">", j)
        if end < 0:
            return  # no ">" anywhere after: no tag can end
        name = value[i:j].lower()
        selfclosing = value[end - 1] == "/"
        yield start, end + 1, closing, name, selfclosing
        pos = end + 1
        if name in _RAW_TEXT and not closing and not selfclosing:
            found = _RAW_TEXT_END[name].search(value, pos)
            if found is None:
                return  # the rest is the element's text
            pos = found.start()


# Implied end tags: an element left open (`<p>one<p>two`, `<li>a<li>b`,
# `<td>` without `</td>`) is closed by the start tags listed for it, as both
# libxml2 (lxml, trafilatura) and the HTML5 parsers (nh3) close it: the
# spec's optional end tags, less what libxml2 nests all the same (`<dt>`
# after `<dt>`, `<rt>`, `<optgroup>`: libxml2 makes those children, so they
# count as nesting or libxml2 would drop what lies below depth 255).
_P_CLOSERS = frozenset(
    [
        "address",
        "blockquote",
        "center",
        "dd",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "listing",
        "menu",
        "ol",
        "p",
        "pre",
        "ul",
        "xmp",
    ]
)
_CLOSED_BY: dict[str, frozenset[str]] = {
    "p": _P_CLOSERS,
    "li": frozenset(["li"]),
    "dt": frozenset(["dd"]),
    "dd": frozenset(["dt"]),
    "option": frozenset(["option", "optgroup"]),
    "tr": frozenset(["tr", "tbody", "tfoot"]),
    "td": frozenset(["td", "th", "tr", "tbody", "tfoot"]),
    "th": frozenset(["td", "th", "tr", "tbody", "tfoot"]),
    "thead": frozenset(["tbody", "tfoot"]),
    "tbody": frozenset(["tbody", "tfoot"]),
    "tfoot": frozenset(["tbody"]),
    "caption": frozenset(["colgroup", "tbody", "thead", "tfoot", "tr"]),
    "colgroup": frozenset(["colgroup", "tbody", "thead", "tfoot", "tr"]),
}
# An end tag closes the elements left open inside its element only where
# both parsers do. libxml2 ranks elements (_END_RANK, else 100) and ignores
# an end tag with a higher-ranked element open inside; HTML5 closes
# everything inside for the block end tags (_BLOCK_END) unless a scope
# boundary (_BOUNDARY) is in the way, and for other end tags (<span>, <b>)
# only ordinary inline elements (anything but _SPECIAL).
_END_RANK = {
    "div": 150,
    "td": 160,
    "th": 160,
    "tr": 170,
    "thead": 180,
    "tbody": 180,
    "tfoot": 180,
    "table": 190,
    "head": 200,
    "body": 200,
    "html": 220,
}
_TABLE_PARTS = frozenset(
    ["table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup"]
)
# The block end tags: the blocks (bar the void <hr>, which has none), table
# parts and a few more.
_BLOCK_END = (
    (BLOCK_TAGS - {"hr"})
    | _TABLE_PARTS
    | frozenset(
        [
            "button",
            "center",
            "details",
            "dialog",
            "dir",
            "fieldset",
            "hgroup",
            "listing",
            "menu",
            "search",
            "summary",
        ]
    )
)
_BOUNDARY = frozenset(
    [
        "applet",
        "caption",
        "html",
        "table",
        "td",
        "th",
        "marquee",
        "object",
        "template",
        "select",
        "svg",
        "math",
    ]
)
_SPECIAL = (
    _BLOCK_END
    | _BOUNDARY
    | frozenset(
        [
            "area",
            "base",
            "basefont",
            "bgsound",
            "body",
            "br",
            "col",
            "embed",
            "frame",
            "frameset",
            "head",
            "hr",
            "iframe",
            "img",
            "input",
            "keygen",
            "link",
            "meta",
            "noembed",
            "noframes",
            "param",
            "plaintext",
            "script",
            "style",
            "textarea",
            "title",
            "track",
            "wbr",
            "xmp",
        ]
    )
)
# How far below the current element an end tag's element is looked for: a
# bound, so that a run of end tags matching nothing near stays linear.
_END_REACH = 32


def _closes(inner: str, name: str) -> bool:
    """Whether both parsers close an open `inner` on `</name>` (an element
    of that name being open below it)."""
    if _END_RANK.get(inner, 100) > _END_RANK.get(name, 100):
        return False
    if name in _TABLE_PARTS:
        return inner not in ("table", "template", "html")
    if name in _BLOCK_END:
        if name == "li" and inner in ("ol", "ul"):
            return False
        if name == "p" and inner == "button":
            return False
        return inner not in _BOUNDARY
    return inner not in _SPECIAL


def flatten_deep(value: str, max_depth: int = MAX_DEPTH) -> str:
    """Drop the tags (not the text) that nest deeper than `max_depth`.
    Nesting is counted as parsers build it: an element whose end tag HTML
    lets a page omit (`<p>`, `<li>`, `<td>`, ...) is closed by what closes
    it implicitly, so a long page of unclosed paragraphs is not deep. One
    linear pass over the tags; ordinary HTML comes back unchanged."""
    if value.count("<") <= max_depth:
        return value
    out: list[str] = []
    stack: list[str] = []  # the open elements that were kept
    open_count: dict[str, int] = {}
    dropped: dict[str, int] = {}  # start tags dropped, whose end tags go too
    pos = 0

    def pop() -> None:
        name = stack.pop()
        open_count[name] -= 1

    for start, end, closing, name, selfclosing in _tags(value):
        if name in _VOID or selfclosing:
            continue
        if not closing:
            while stack and name in _CLOSED_BY.get(stack[-1], ()):
                pop()
            if len(stack) < max_depth:
                stack.append(name)
                open_count[name] = open_count.get(name, 0) + 1
                continue
            dropped[name] = dropped.get(name, 0) + 1
        elif dropped.get(name):
            dropped[name] -= 1
        else:
            if open_count.get(name):
                for k in range(len(stack) - 1, max(-1, len(stack) - 1 - _END_REACH), -1):
                    if stack[k] == name:
                        while len(stack) > k:
                            pop()
                        break
                    if not _closes(stack[k], name):
                        break
            continue  # kept: a stray end tag is ignored by parsers
        out.append(value[pos:start])
        pos = end
    if not out:
        return value
    out.append(value[pos:])
    return "".join(out)
