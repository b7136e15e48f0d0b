"""nesting.flatten_deep: hostile nesting is flattened before any parser sees
it, and a real page is not. Elements whose end tag HTML lets a page leave
out (`<p>`, `<li>`, `<td>`, ...) are closed where parsers close them, so a
long page of unclosed paragraphs is shallow, as lxml builds it."""

from __future__ import annotations

import lxml.html

from feedsvc.extract import read_article
from feedsvc.nesting import MAX_DEPTH, flatten_deep
from feedsvc.text import html_to_text


def _depth(html: str) -> int:
    doc = lxml.html.document_fromstring(html)
    return max(sum(1 for _ in el.iterancestors()) for el in doc.iter())


def big_page(paragraphs: int = 400) -> str:
    """A CMS page of the kind the evaluation corpus holds (90 KB): menus and
    comment threads of `<li>` without `</li>`, an article of `<p>` without
    `</p>`, a table of cells without end tags, markup inside scripts and
    conditional comments."""
    menu = "".join(f'<li class="menu-item"><a href="/s/{i}">Section {i}</a>' for i in range(300))
    body = "".join(
        f"<p>Paragraph {i} of the story: the council met again on Tuesday and the "
        f"<b>budget</b> for the footbridge, item {i}, was discussed at length by members."
        + ("<ul><li>one point<li>another point<li>a third point</ul>" if i % 50 == 7 else "")
        for i in range(paragraphs)
    )
    table = "<table><tr><th>Year<th>Cost" + "".join(
        f"<tr><td>{2000 + i}<td>{i * 1000}" for i in range(60)
    )
    comments = "".join(
        f'<li class="comment"><p>Reader {i} wrote:<p>I disagree with item {i}.' for i in range(150)
    )
    return (
        "<!DOCTYPE html><html><head><title>Footbridge approved | The Gazette</title>"
        "<script>var card = '<div class=\"card\"><span>' + title;</script>"
        "<!--[if lt IE 9]><div class='old-browser'><![endif]-->"
        "</head><body><div id='page'><header><nav><ul>" + menu + "</ul></nav></header>"
        "<main><article><h1>Footbridge approved</h1><div class='entry-content'>"
        + body
        + table
        + "</table><p>The last paragraph of the story.</div></article>"
        "<section id='comments'><ol>" + comments + "</ol></section></main>"
        "<footer><p>Copyright The Gazette</footer></div></body></html>"
    )


def test_a_big_page_of_unclosed_paragraphs_and_items_keeps_its_tags() -> None:
    page = big_page()
    assert len(page) > 80_000
    assert page.count("<p>") > 2 * MAX_DEPTH  # every one open, for a depth counter
    assert flatten_deep(page) == page
    assert _depth(page) < 20  # as lxml builds it


def test_the_article_of_such_a_page_is_extracted_whole() -> None:
    entry = read_article(flatten_deep(big_page()), "https://gazette.test/footbridge")
    text = html_to_text(entry.html)
    assert "Paragraph 0 of the story" in text
    assert "Paragraph 399 of the story" in text
    assert "The last paragraph of the story." in text
    assert entry.html.count("<p>") >= 400  # paragraphs, not one flattened block


def test_deep_nesting_is_still_flattened_and_keeps_its_text() -> None:
    page = "<div>" * 5000 + "Buried sentence." + "</div>" * 5000 + "<p>After the pile."
    flat = flatten_deep(page)
    assert flat.count("<div>") == MAX_DEPTH
    assert flat.count("</div>") == MAX_DEPTH
    assert html_to_text(flat).split() == ["Buried", "sentence.", "After", "the", "pile."]


def test_what_libxml2_nests_still_counts_as_nesting() -> None:
    """Tags the HTML spec would close but libxml2 nests (`<dt>` after `<dt>`,
    `<b>` left open before a block) count, or lxml would drop the text
    below depth 255."""
    for page in (
        "<dl>" + "<dt>term " * 1000 + "</dl><p>End.",
        "<p><b>bold<div>block " * 500 + "<p>End.",
        "<span><ul>x</span>" * 500 + "<p>End.",  # HTML5 parsers ignore that </span>
    ):
        flat = flatten_deep(page)
        assert flat != page
        assert _depth(flat) <= MAX_DEPTH + 2
        assert "End." in lxml.html.document_fromstring(flat).text_content()


def test_markup_in_scripts_and_comments_opens_nothing() -> None:
    page = (
        "<script>" + "'<div>'+" * 1000 + "'';</script><!--" + "<div>" * 1000 + "-->"
        "<div><p>Kept text.</div>" * 300
    )
    assert flatten_deep(page) == page


def test_end_tags_close_what_parsers_close() -> None:
    # </div> closes the unclosed <span> and <p> inside it (both parsers do)
    page = "<div><span><p>text</div>" * 1000
    assert flatten_deep(page) == page
    # but not a table cell left open inside it: lxml ignores that </div>
    page = "<div><table><tr><td>cell</div>" * 100
    assert _depth(flatten_deep(page)) <= MAX_DEPTH + 2
