"""HTML to plain text, and plain text to safe HTML. The only nh3 importer."""

from __future__ import annotations

import html as htmllib
import re
import string
from typing import TypeVar

import lxml.html
import nh3
from lxml import etree

from feedsvc import redact
from feedsvc.nesting import BLOCK_TAGS, flatten_deep

T = TypeVar("T")


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
    return marked_text(root)


def marked_text(root: lxml.html.HtmlElement) -> str:
    """The text of an element whose blocks are marked in place: a blank
    line on either side of every block, a line break for every <br>,
    nothing from scripts, styles or comments. It changes `root`: give it a
    tree of its own."""
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
