"""Charset labels from upstreams go through the WHATWG Encoding Standard's
table (webencodings), not Python's codec registry, which would take "hex",
"rot13", "zlib" or "punycode" (quadratic on hostile input) from anyone."""

from __future__ import annotations

import pytest

from feedsvc.charset import codec, decode_html
from feedsvc.parse import parse_feed

PAGE = "<html><head><title>Café</title></head><body><p>Crème brûlée</p></body></html>"


@pytest.mark.parametrize("label", ["punycode", "hex", "rot13", "zlib", "base64", "idna", "utf-7"])
def test_python_only_codecs_are_not_charsets(label: str) -> None:
    assert codec(label) is None


@pytest.mark.parametrize(
    ("label", "python"),
    [
        ("UTF-8", "utf-8"),
        ("unicode-1-1-utf-8", "utf-8"),
        ("latin1", "cp1252"),
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("shift_jis", "cp932"),
        ("gb2312", "gbk"),
        ("koi8-r", "koi8-r"),
        ("x-mac-roman", "mac-roman"),
    ],
)
def test_whatwg_labels_map_as_browsers_map_them(label: str, python: str) -> None:
    assert codec(label) == python


def test_the_replacement_labels_count_as_no_label() -> None:
    assert codec("iso-2022-kr") is None  # WHATWG: decode to one U+FFFD


@pytest.mark.parametrize("label", ["punycode", "hex", "rot13", "zlib"])
def test_a_page_declaring_a_python_only_codec_is_read_as_if_it_declared_nothing(
    label: str,
) -> None:
    body = PAGE.encode("utf-8")
    assert decode_html(body, f"text/html; charset={label}") == PAGE
    meta = f'<meta charset="{label}">'.encode() + body
    assert decode_html(meta) == meta.decode("utf-8")


def feed(declaration: str, title: bytes) -> bytes:
    return (
        f'<?xml version="1.0" encoding="{declaration}"?>'.encode()
        + b'<rss version="2.0"><channel><title>Wire</title><item><guid>1</guid><title>'
        + title
        + b"</title></item></channel></rss>"
    )


@pytest.mark.parametrize("label", ["punycode", "hex", "rot13"])
def test_a_feed_declaring_a_python_only_codec_is_read_as_utf8(label: str) -> None:
    data = parse_feed(feed(label, "Crème brûlée".encode()), "http://127.0.0.1/feed")
    assert data.entries[0].title == "Crème brûlée"


def test_a_feed_whose_header_names_a_python_only_codec_is_read_as_utf8() -> None:
    body = feed("utf-8", "Crème brûlée".encode())
    data = parse_feed(
        body, "http://127.0.0.1/feed", {"Content-Type": "application/rss+xml; charset=punycode"}
    )
    assert data.entries[0].title == "Crème brûlée"


def test_a_feed_labelled_latin1_reads_windows_1252_quotes() -> None:
    data = parse_feed(feed("iso-8859-1", b"\x93Quoted\x94 \xe9t\xe9"), "http://127.0.0.1/feed")
    assert data.entries[0].title == "\u201cQuoted\u201d été"
