"""HTML to plain text, and plain text to safe HTML. The only nh3 importer."""

from __future__ import annotations

import html as htmllib
import re

import lxml.html
import nh3
from lxml import etree

from feedsvc import redact

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
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>")
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


def flatten_deep(value: str, max_depth: int = MAX_DEPTH) -> str:
    """Drop the tags (not the text) that nest deeper than `max_depth`.
    One linear pass over the tags; ordinary HTML comes back unchanged."""
    if value.count("<") <= max_depth:
        return value
    out: list[str] = []
    depth = dropped = pos = 0
    for m in _TAG.finditer(value):
        closing, name, selfclosing = m.group(1), m.group(2).lower(), m.group(3)
        if name in _VOID or selfclosing:
            continue
        if not closing:
            if depth < max_depth:
                depth += 1
                continue
            dropped += 1
        elif dropped:
            dropped -= 1
        else:
            depth = max(0, depth - 1)
            continue
        out.append(value[pos : m.start()])
        pos = m.end()
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
        return htmllib.unescape(re.sub(r"<[^>]*>", " ", value))
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
