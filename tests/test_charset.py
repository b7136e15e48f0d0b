"""Which charset a fetched page is read in: BOM, header, the page's own
declaration, then a guess from the bytes."""

from __future__ import annotations

import codecs
from pathlib import Path

from feedsvc.charset import content_type_charset, decode_html, sniff_charset

DATA = Path(__file__).parent / "data" / "fetch"
CYRILLIC = "Мэрия сообщила о новых данных"  # noqa: RUF001


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_latin1_page_without_any_declaration_decodes_correctly() -> None:
    text = decode_html((DATA / "latin1-article.html").read_bytes(), "text/html")
    assert "Zürichberg" in text
    assert "Im Café an der Bergstation" in text
    assert "«großen Tag»" in text


def test_charset_in_the_header_is_used() -> None:
    body = page(CYRILLIC).encode("koi8-r")
    assert CYRILLIC in decode_html(body, "text/html; charset=KOI8-R")


def test_meta_charset_is_used_when_the_header_has_none() -> None:
    body = page(CYRILLIC, '<meta charset="windows-1251">').encode("cp1251")
    assert CYRILLIC in decode_html(body, "text/html")


def test_meta_http_equiv_is_used_when_the_header_has_none() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    body = page(CYRILLIC, head).encode("cp1251")
    assert CYRILLIC in decode_html(body, "text/html")


def test_xml_declaration_is_used_for_xhtml() -> None:
    body = ('<?xml version="1.0" encoding="ISO-8859-15"?>' + page("Prix: 5 €")).encode(
        "iso-8859-15"
    )
    assert "Prix: 5 €" in decode_html(body, "application/xhtml+xml")


def test_byte_order_mark_beats_a_wrong_header() -> None:
    body = codecs.BOM_UTF8 + page("naïve café").encode("utf-8")
    text = decode_html(body, "text/html; charset=iso-8859-1")
    assert "naïve café" in text
    assert not text.startswith("\ufeff")


def test_header_contradicted_by_the_bytes_falls_back_to_a_guess() -> None:
    # A server that says UTF-8 for every page, in front of an old Latin-1 CMS.
    body = page("Besuch im Café Zürich").encode("latin-1")
    assert "Besuch im Café Zürich" in decode_html(body, "text/html; charset=utf-8")


def test_latin1_label_is_read_as_windows_1252_as_browsers_do() -> None:
    body = page("“Quoted” — dash").encode("cp1252")
    assert "“Quoted” — dash" in decode_html(body, "text/html; charset=ISO-8859-1")


def test_unknown_charset_label_is_ignored() -> None:
    body = page("Grüße").encode("utf-8")
    assert "Grüße" in decode_html(body, "text/html; charset=x-no-such-charset")


def test_meta_declaring_utf16_in_ascii_bytes_is_read_as_utf8() -> None:
    body = page("Grüße", '<meta charset="utf-16">').encode("utf-8")
    assert "Grüße" in decode_html(body)


def test_bytes_undefined_in_windows_1252_still_decode() -> None:
    assert decode_html(b"<p>\x81\x8d</p>") == "<p>\x81\x8d</p>"


def test_meta_inside_a_comment_is_not_a_declaration() -> None:
    body = b'<!-- <meta charset="koi8-r"> --><meta charset="utf-8"><p>x</p>'
    assert sniff_charset(body) == "utf-8"


def test_content_type_charset_parameter() -> None:
    assert content_type_charset('text/html; charset="Shift_JIS"') == "Shift_JIS"
    assert content_type_charset("text/html") is None
    assert content_type_charset(None) is None
