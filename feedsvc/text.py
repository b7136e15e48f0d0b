"""HTML to plain text, and plain text to safe HTML. The only nh3 importer."""

from __future__ import annotations

import html as htmllib
import re
import string
from collections.abc import Iterator
from typing import TypeVar

import lxml.html
import nh3
from lxml import etree

from feedsvc import redact

T = TypeVar("T")

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

# Tags and attributes an article body may keep. Everything else, including
# every on* attribute, <script>, <style> and javascript: URLs, is dropped.
ALLOWED_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
    ]
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ins": {"style", "title"},
    "del": {"style", "title"},
    "span": {"style", "title"},
    "p": {"style"},
}
# What a style attribute may keep: colours and text decoration, which is
# what the diff marks use. Anything that moves or sizes a box
# (position:fixed;inset:0 covers the page), loads a URL or hides text goes.
SAFE_STYLE_PROPERTIES = frozenset(
    [
        "color",
        "background-color",
        "font-style",
        "font-weight",
        "text-align",
        "text-decoration",
        "text-decoration-line",
        "text-decoration-color",
        "text-decoration-style",
    ]
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


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


def one_line(value: str | None) -> str | None:
    """Whitespace runs folded to one space, ends trimmed; None for nothing
    left (a title or a name read from upstream markup)."""
    if value is None:
        return None
    return " ".join(value.split()) or None


def strip_tags(value: str) -> str:
    """Every `<...>` replaced by a space, in one linear pass (the regex
    `<[^>]*>` is quadratic on a run of "<" with no ">")."""
    out: list[str] = []
    pos = 0
    while (start := value.find("<", pos)) >= 0:
        end = value.find(">", start)
        if end < 0:
            break
        out.append(value[pos:start])
        out.append(" ")
        pos = end + 1
    out.append(value[pos:])
    return "".join(out)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def element_text(html: str, tag: str) -> str | None:
    """The raw content of the first <tag ...>...</tag> (case-insensitive),
    or None. Found with str.find, in linear time whatever the input."""
    lower = html.translate(_ASCII_LOWER)  # str.lower() may change the length
    start = lower.find(f"<{tag}")
    while start >= 0:
        after = start + 1 + len(tag)
        if after < len(lower) and (lower[after] == ">" or lower[after].isspace()):
            break
        start = lower.find(f"<{tag}", after)
    if start < 0:
        return None
    open_end = lower.find(">", start)
    if open_end < 0:
        return None
    close = lower.find(f"</{tag}>", open_end)
    return None if close < 0 else html[open_end + 1 : close]


# What XML 1.0 forbids (its Char production): C0 controls but tab, newline
# and carriage return, lone surrogates, U+FFFE and U+FFFF. lxml (and so
# feedgen) refuses a document holding one ("All strings must be XML
# compatible"), and in HTML they are parse errors.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """`value` without the characters XML forbids; the same type (a
    markupsafe.Markup stays Markup), and the same object when there are none."""
    if _XML_FORBIDDEN.search(value) is None:
        return value
    return type(value)(_XML_FORBIDDEN.sub("", value))


def xml_safe(value: T) -> T:
    """xml_text() through strings, lists, tuples and dicts; anything else
    as it is. The boundary where text enters an XML or HTML document: every
    value feedgen is handed (render.py) and every value a page template
    prints (Jinja's finalize) goes through it."""
    if isinstance(value, str):
        return xml_text(value)  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        return type(value)(xml_safe(v) for v in value)
    if isinstance(value, dict):
        return {k: xml_safe(v) for k, v in value.items()}  # type: ignore[return-value]
    return value


def strip_controls(value: str) -> str:
    """Drop NUL and other control characters and bidi overrides; XML cannot
    carry most of them and a right-to-left override in a title misleads."""
    return _CONTROL.sub("", value)


def web_url(value: str | None) -> str | None:
    """`value` if it is an http(s) URL, else None: an upstream's article link
    is written into pages and feeds, and javascript: or data: must never be."""
    if value is None or _CONTROL.search(value):
        return None  # not a URL, and XML could not carry it
    scheme, sep, _ = value.strip().partition(":")
    # Shown, never fetched: credentials and tokens in it are masked.
    return redact.url(value) if sep and scheme.lower() in ("http", "https") else None


def sanitize_html(value: str) -> str:
    """Untrusted HTML in, HTML safe to embed in a page or a feed out."""
    return nh3.clean(
        flatten_deep(strip_controls(value)),
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        filter_style_properties=set(SAFE_STYLE_PROPERTIES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(value: str) -> str:
    """Block-aware text of an HTML fragment: one paragraph per block, blank
    lines between them. Iterative, so deeply nested input cannot recurse."""
    value = flatten_deep(strip_controls(value))
    if not value.strip():
        return ""
    if "<" not in value:
        return htmllib.unescape(value)
    try:
        root = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return htmllib.unescape(strip_tags(value))
    for el in root.iter():
        if not isinstance(el.tag, str):  # comments, processing instructions
            el.text = ""
            continue
        tag = el.tag.lower()
        if tag in ("script", "style", "template", "noscript"):
            el.text = ""
            for child in list(el):
                el.remove(child)
        elif tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif tag in BLOCK_TAGS:
            el.text = "\n\n" + (el.text or "")
            el.tail = "\n\n" + (el.tail or "")
    return str(root.text_content())


def text_to_html(text: str) -> str:
    """Plain text (paragraphs separated by blank lines) as escaped <p>s."""
    return "\n".join(f"<p>{htmllib.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
