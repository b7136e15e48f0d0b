"""Reading feeds: identities as written, titles as text, whole documents."""

from __future__ import annotations

import pytest

from feedsvc.errors import ParseError
from feedsvc.parse import parse_feed

BASE = "http://news.test/feeds/main.xml"


def rss_item(title: str, guid: str = "story-1", extra: str = "") -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<link>http://news.test/</link><description>d</description><item><title>{title}</title>"
        f"<guid>{guid}</guid><link>/2026/storm</link><description>Body.</description>{extra}"
        "</item></channel></rss>"
    ).encode()


def test_a_permalink_guid_is_kept_as_written_not_resolved_against_the_feed() -> None:
    [entry] = parse_feed(rss_item("Storm", guid="story-1"), BASE).entries
    assert entry.key == "story-1"


def test_relative_links_resolve_against_the_feed_url() -> None:
    [entry] = parse_feed(rss_item("Storm"), BASE).entries
    assert entry.url == "http://news.test/2026/storm"


def test_an_html_title_becomes_plain_text() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>x</title><id>urn:f</id><updated>2026-01-01T00:00:00Z</updated>
<entry><id>urn:e1</id><updated>2026-01-01T00:00:00Z</updated>
<title type="html">&lt;b&gt;Storm&lt;/b&gt; hits &amp;amp; floods</title>
<content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>"""
    [entry] = parse_feed(atom, BASE).entries
    assert entry.title == "Storm hits & floods"


def test_a_plain_text_title_keeps_its_angle_brackets() -> None:
    [entry] = parse_feed(rss_item("Fish &amp; chips &lt;3"), BASE).entries
    assert entry.title == "Fish & chips <3"


def test_a_prefixed_atom_root_is_a_whole_document() -> None:
    atom = b"""<?xml version="1.0"?><a:feed xmlns:a="http://www.w3.org/2005/Atom">
<a:title>x</a:title><a:id>urn:f</a:id><a:updated>2026-01-01T00:00:00Z</a:updated>
<a:entry><a:id>urn:e1</a:id><a:title>Storm</a:title><a:updated>2026-01-01T00:00:00Z</a:updated>
<a:content>Body</a:content></a:entry></a:feed>
"""
    [entry] = parse_feed(atom, BASE).entries
    assert (entry.key, entry.title) == ("urn:e1", "Storm")


def test_a_document_cut_off_mid_entry_is_refused() -> None:
    with pytest.raises(ParseError):
        parse_feed(rss_item("Storm")[:-40], BASE)
