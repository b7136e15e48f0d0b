"""Pure: the text of an HTML page from its bytes and its Content-Type.

The order follows the WHATWG HTML standard's encoding sniffing, simplified:
a byte order mark, then the charset in the Content-Type header, then a
<meta charset> (or http-equiv) or an XML declaration near the top, then
UTF-8 if the bytes are valid UTF-8, then windows-1252, which is what browsers
assume for an undeclared Western page and which reads Latin-1 text right.
A declaration the bytes contradict is skipped, not trusted into mojibake.

Feeds do not come here: feedparser gets their bytes and does its own
detection.
"""

from __future__ import annotations

import codecs
import re

SNIFF_BYTES = 4096
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_COMMENT = re.compile(rb"<!--.*?-->", re.S)

# Labels the WHATWG Encoding Standard maps to windows-1252: pages that say
# Latin-1 use the curly quotes and dashes in 0x80-0x9F all the time.
_AS_CP1252 = frozenset({"iso-8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819"})


def content_type_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def sniff_charset(body: bytes) -> str | None:
    """The charset a page declares in its first few kilobytes: an XML
    declaration or a <meta charset> / <meta http-equiv content=...>."""
    head = body[:SNIFF_BYTES]
    m = _XML_ENCODING.match(head)
    if m:
        return m.group(1).decode("ascii")
    m = _META_CHARSET.search(_COMMENT.sub(b"", head))
    return m.group(1).decode("ascii") if m else None


def codec(label: str | None) -> str | None:
    """A Python codec name for an encoding label, or None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The page's text; never raises."""
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, "replace")
    declared = (codec(content_type_charset(content_type)), codec(sniff_charset(body)))
    for name in (*declared, "utf-8", "cp1252"):
        if name is None:
            continue
        # A page cannot declare itself UTF-16 in ASCII bytes: the WHATWG
        # standard reads such a declaration as UTF-8.
        if name.startswith("utf-16"):
            name = "utf-8"
        try:
            return body.decode(name)
        except UnicodeDecodeError:
            continue  # a declaration the bytes contradict: try the next guess
    # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
    return body.decode("latin-1")
