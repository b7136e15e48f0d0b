"""Main-text extraction on three site templates (WordPress/Jetpack, a
newspaper with a live header and related rail, Ghost), each in several
revisions: the article's paragraphs are kept, page furniture is not, and
only revisions that change the article are revisions.

The pages are tests/data/pages/TEMPLATE/vN.html; each vN.expected.txt beside
them is the article as its author wrote it (headline, then paragraphs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.extract import _is_furniture, extract_article
from feedsvc.local import read_file
from feedsvc.revisions import content_hash, is_boilerplate, normalise, normalise_title
from feedsvc.text import html_to_text

PAGES = Path(__file__).parent / "data" / "pages"
LOCAL = Path(__file__).parent / "data" / "local"

# Every line here is page furniture on at least one of the templates.
BOILERPLATE = [
    "Skip to content",
    "Leave a Reply",
    "%d bloggers like this",
    "Connecting to %s",
    "Log Out",
    "Change )",
    "Fill in your details below",
    "You are commenting using",
    "Image Credit",
    "Photograph:",
    "Photo by",
    "Share this",
    "Like this",
    "Loading...",
    "Post Comment",
    "Notify me of new posts",
    "Stay strong Panjshir",  # a reader's comment
    "Recent Posts",
    "Related stories",
    "Most read",
    "minutes ago",
    "people are reading this",
    "shares",
    "Advertisement",
    "Get the morning briefing",
    "Sign up",
    "Subscribe",
    "Read more",
    "responses",
    "members",
    "min read",
    "Powered by",
]

REVISIONS = {
    # template: [(page, does it change the article?)]
    "wordpress": [("v1", True), ("v2", False), ("v3", True)],
    "newspaper": [("v1", True), ("v2", False), ("v3", True), ("v4", True)],
    "ghost": [("v1", True), ("v2", False), ("v3", True)],
}
ALL_PAGES = [(t, page) for t, revs in REVISIONS.items() for page, _ in revs]


def extracted(template: str, page: str) -> tuple[str, str, str]:
    """(title, normalised text, sanitisable HTML) of one test page."""
    html = (PAGES / template / f"{page}.html").read_text(encoding="utf-8")
    entry = extract_article(html, f"https://{template}.example/story")
    text = entry.text if entry.text is not None else html_to_text(entry.html)
    return normalise_title(entry.title), normalise(text), entry.html


def expected(template: str, page: str) -> tuple[str, str]:
    title, _, body = (PAGES / template / f"{page}.expected.txt").read_text("utf-8").partition("\n")
    return title, normalise(body)


@pytest.mark.parametrize(("template", "page"), ALL_PAGES)
def test_the_article_is_extracted_whole_and_alone(template: str, page: str) -> None:
    title, text, _ = extracted(template, page)
    want_title, want_text = expected(template, page)
    assert title == want_title
    assert text == want_text


@pytest.mark.parametrize(("template", "page"), ALL_PAGES)
def test_no_boilerplate_line_reaches_the_text_or_the_html(template: str, page: str) -> None:
    _, text, html = extracted(template, page)
    for line in BOILERPLATE:
        assert line.lower() not in text.lower(), line
        assert line.lower() not in html.lower(), line


@pytest.mark.parametrize("template", REVISIONS)
def test_only_revisions_that_change_the_article_change_its_hash(template: str) -> None:
    hashes = [content_hash(*extracted(template, page)[:2]) for page, _ in REVISIONS[template]]
    changed = [hashes[i] != hashes[i - 1] if i else True for i in range(len(hashes))]
    assert changed == [changes for _, changes in REVISIONS[template]]


def test_extraction_keeps_headings_lists_quotes_and_links() -> None:
    html = """<html><head><title>Budget day</title></head><body>
    <nav><a href="/">Home</a></nav>
    <article><h1>Budget day: what changes</h1>
    <p>The chancellor set out the budget on Wednesday, with changes to income tax,
    fuel duty and the state pension that take effect in April.</p>
    <h2>Income tax</h2>
    <p>The personal allowance rises for the first time in four years, the
    <a href="https://example.gov/budget">budget document</a> says.</p>
    <ul><li>Fuel duty frozen for another year</li><li>State pension up by 4.1%</li></ul>
    <blockquote><p>This is a budget for growth, the chancellor told MPs.</p></blockquote>
    <p>Economists said the measures would cost about twelve billion pounds a year by the end
    of the decade, most of it from the change to the personal allowance.</p>
    </article></body></html>"""
    entry = extract_article(html, "https://news.example/budget")
    assert "<h2>Income tax</h2>" in entry.html
    assert "<li>Fuel duty frozen for another year</li>" in entry.html
    assert "<blockquote>" in entry.html
    assert 'href="https://example.gov/budget"' in entry.html
    assert "Home" not in html_to_text(entry.html)


def test_a_line_between_the_divs_of_a_blogger_post_is_article_text() -> None:
    # Blogger writes a post as one <div> of text, <br>s and <div>s; the line
    # between two <div>s is a tail, which trafilatura alone drops.
    html = (PAGES / "blogger" / "v1.html").read_text(encoding="utf-8")
    entry = extract_article(html, "https://blog.example/36")
    text = html_to_text(entry.html)
    assert "Maintenance releases for the 3.6 series" in text
    assert "as PEP 494 says" in text
    assert text.index("distributors") < text.index("Maintenance") < text.index("We hope")


def test_article_sections_classed_with_furniture_words_are_article_text() -> None:
    # Real templates name the article's own containers with words that
    # elsewhere mean furniture: a test report's sections flagged as holding
    # ad slots (BEM modifier "--Ads"), a live ticker's "comments".
    sections = "".join(
        f"""<section class="TestReport__Section TestReport__Section--Ads" id="{name}">
        <h2>{name}</h2>
        <p>{text} The tester used it for three weeks on a gas grill and a charcoal
        kettle, with thick steaks, thin burgers and vegetables cut in rounds.</p>
        </section>"""
        for name, text in [
            ("Lieferumfang", "The pan measures 35.7 by 29.4 cm and weighs two kilos."),
            ("Ergebnis", "Strong heat only in the middle of the pan, the edges stay cooler."),
            ("Fazit", "We are in steak heaven: the best grill pan we have tested this year."),
        ]
    )
    ticker = "".join(
        f'<div class="live-match-comment"><span>{minute}\'</span><p>{line}</p></div>'
        for minute, line in [
            (90, "Full time at the Moustoir! Lorient held on after a tense second half."),
            (67, "The corner kick comes to nothing, the keeper punches it clear."),
            (3, "Both sides feel each other out in the opening minutes of the match."),
        ]
    )
    html = f"""<html><head><title>Grill pan test</title></head><body>
    <article><h1>Grill pan test</h1>{sections}
    <div class="live-match-comments">{ticker}</div></article></body></html>"""
    text = html_to_text(extract_article(html, "https://review.example/grill").html)
    assert "35.7 by 29.4 cm" in text
    assert "Strong heat only in the middle" in text
    assert "We are in steak heaven" in text
    assert "Lorient held on" in text
    assert "The corner kick comes to nothing" in text


def short_post(views: str) -> str:
    """A post too short for trafilatura's own extraction, whose last resort
    takes the <article>'s whole text at once; a views counter among its
    lines."""
    return f"""<!doctype html><html><head><title>Ferry timetable changes | Harbour Post</title>
    </head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <article class="post"><h1>Ferry timetable changes</h1>
    <div class="meta">Posted 11 April 2026 by Ana Ruiz</div>
    <div class="entry"><h3>What changes</h3>
    <div>The early ferry leaves at 6:40.</div><div>The last ferry leaves at 22:10.</div>
    <div class="views">Viewed {views} times</div>
    <h3>Why</h3><div>Repairs at the north pier.</div></div>
    </article><footer>Harbour Post</footer></body></html>"""


def test_an_article_taken_whole_keeps_its_lines_apart_without_its_headline_or_counter() -> None:
    entry = extract_article(short_post("1,204"), "https://harbour.example/ferry")
    assert entry.title == "Ferry timetable changes"
    assert normalise(html_to_text(entry.html)).split("\n\n") == [
        "Posted 11 April 2026 by Ana Ruiz",
        "What changes",
        "The early ferry leaves at 6:40.",
        "The last ferry leaves at 22:10.",
        "Why",
        "Repairs at the north pier.",
    ]


def test_a_counter_moving_in_an_article_taken_whole_leaves_its_text_as_it_was() -> None:
    before = extract_article(short_post("1,204"), "https://harbour.example/ferry")
    after = extract_article(short_post("1,377"), "https://harbour.example/ferry")
    assert normalise(html_to_text(after.html)) == normalise(html_to_text(before.html))


def test_the_page_metadata_is_read() -> None:
    html = (PAGES / "newspaper" / "v1.html").read_text(encoding="utf-8")
    entry = extract_article(html, "https://newspaper.example/story")
    assert entry.author == "Amira Hassan"
    assert entry.published is not None and entry.published.date().isoformat() == "2026-03-02"


def test_a_scraped_text_file_loses_its_boilerplate_like_the_seed() -> None:
    entry, _ = read_file(LOCAL / "panjshir.txt", 1_000_000)
    text = normalise(entry.text or "")
    assert normalise_title(entry.title) == "Taliban suffer heavy losses in Panjshir Valley."
    assert text.startswith("Today, Taliban forces attempted to enter Panjshir Valley")
    assert text.endswith("More details to follow.")
    for line in BOILERPLATE:
        assert line.lower() not in text.lower(), line


@pytest.mark.parametrize(
    "line",
    [
        "Skip to content",
        "Leave a Reply",
        "Fill in your details below or click an icon to log in: Logo",
        "You are commenting using your account. Log Out /  Change )",
        "You are commenting using your Twitter account. Log Out / Change )",
        "Twitter picture",
        "Facebook photo",
        "Connecting to %s",
        "%d bloggers like this:",
        "Image Credit: Twitter account khminawi",
        "Share this:",
        "Like this: Like Loading...",
        "Updated 5 minutes ago",
        "3 Comments",
        "1,204 shares",
        "1.2K shares",
        "Comments (12)",
        "Comments: 12",
        "Viewed 1,234 times",
        "Page views: 1,234",
        "12 responses to “Footbridge over the Wend approved”",
        "14 Kommentare",
        "1.234 Aufrufe",
        "23 comentarios",
        "Advertisement",
    ],
)
def test_boilerplate_lines_are_recognised(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "More details to follow.",
        "Three comments from the minister drew criticism on Tuesday.",
        "The photo credit went to a local photographer, the paper said.",
        "Share prices fell 5 minutes after the announcement.",
        "12 dead",
        "3 responses to the crisis",
        "1,204 votes",  # a results table's cell
        "Views differ on the bridge",
    ],
)
def test_article_sentences_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Foto: dpa",
        "(Bild: Dieter Stork)",
        "Titelbild: Fachy Marín on Unsplash",
        "Crédit photo : KB / Bondy Blog",
        "Featured image: Tetbir Salim via Unsplash",
        "© Thomson Reuters 2020",
        "Copyright 2023 Sunbeam Television Corp. All rights reserved.",
        "Keine Kommentare (Kommentare erscheinen erst nach unserer Freigabe)",
        "5 Kommentare",
        "Last updated: 13 July 2020",
        "Letzte Änderung 14.02.2019",
        "Lesezeit: 2 Minuten",
        "4 min read",
        "1204 people are reading this Updated 5 minutes ago",
        "Aktualisiert vor 3 Stunden",
        "Publié il y a 12 minutes",
    ],
)
def test_notices_beside_the_article_are_furniture(line: str) -> None:
    assert _is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "Copyright reform",
        "No comments were made by the minister when the figures came out.",
        "Last updated in 1998, the register lists every listed building.",
        "The photo credit went to a local photographer, the paper said.",
        "Image rights are at the heart of the case.",
        "Witnesses said the first engines arrived at the scene about 5 minutes ago, police said.",
    ],
)
def test_article_lines_are_not_notices(line: str) -> None:
    assert not _is_furniture(line)
