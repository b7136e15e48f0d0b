"""A feed declaring XML entities is refused however its prolog is padded:
the check reads the whole prolog, not the first 64 KB."""

from __future__ import annotations

import pytest

from feedsvc.errors import ParseError
from feedsvc.parse import parse_feed

LAUGHS = (
    b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)
CHANNEL = (
    b'<rss version="2.0"><channel><title>&c;</title><item><guid>1</guid></item></channel></rss>'
)
URL = "http://127.0.0.1/feed"


@pytest.mark.parametrize(
    "prolog",
    [
        b'<?xml version="1.0"?>' + LAUGHS,
        b'<?xml version="1.0"?><!-- ' + b"padding " * 20000 + b"-->" + LAUGHS,
        b'<?xml version="1.0"?>' + b"<?pi " + b"x" * 100000 + b"?>\n" + LAUGHS,
        b"\xef\xbb\xbf" + b"\n" * 70000 + LAUGHS,
        # a "]>" inside a comment of the internal subset does not end it early
        b'<!DOCTYPE rss [<!-- ]> --><!ENTITY c "boom">]>',
    ],
    ids=[
        "plain",
        "after a 160 KB comment",
        "after a 100 KB PI",
        "after 70 KB of blank lines",
        "hidden behind a ]> in a comment",
    ],
)
def test_a_feed_declaring_entities_is_refused(prolog: bytes) -> None:
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_feed(prolog + CHANNEL, URL)


def test_a_public_doctype_without_an_internal_subset_is_read() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://127.0.0.1/rss-0.91.dtd"><rss version="0.91"><channel><title>Wire</title>'
        b"<item><title>About &lt;!ENTITY&gt; declarations</title><link>http://127.0.0.1/x</link>"
        b"</item></channel></rss>"
    )
    assert parse_feed(body, URL).entries[0].title == "About <!ENTITY> declarations"
