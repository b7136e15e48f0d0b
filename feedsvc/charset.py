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

import webencodings

SNIFF_BYTES = 4096
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_COMMENT = re.compile(rb"<!--.*?-->", re.S)


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
    """The Python codec for an encoding label, by the WHATWG Encoding
    Standard's table (webencodings), or None if the label is not in it.
    Python's own codecs.lookup() would accept "hex", "rot13", "zlib" or
    "punycode" (quadratic on hostile input) from any upstream; browsers do
    not, and neither does feedsvc. Latin-1 and ASCII labels mean
    windows-1252, as in browsers; the "replacement" labels (ISO-2022-KR,
    HZ) and x-user-defined count as no label."""
    if not label:
        return None
    encoding = webencodings.lookup(label)
    if encoding is None or encoding.name in ("replacement", "x-user-defined"):
        return None
    name: str = encoding.codec_info.name
    return name


def with_known_charsets(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """A feed's bytes and Content-Type with every charset label put through
    codec(): a known label becomes its Python codec's name, an unknown one
    is dropped (so feedparser falls back to detecting it, UTF-8 then
    windows-1252), since feedparser hands any label to codecs.lookup()."""
    header_label = content_type_charset(content_type)
    if header_label is not None and content_type is not None:
        media_type = content_type.split(";", 1)[0].strip()
        known = codec(header_label)
        content_type = f"{media_type}; charset={known}" if known else media_type
    m = _XML_ENCODING.match(body[:SNIFF_BYTES])
    if m:
        label = m.group(1).decode("ascii")
        known = codec(label)
        if known != label:
            body = body[: m.start(1)] + (known or "utf-8").encode("ascii") + body[m.end(1) :]
    return body, content_type


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
