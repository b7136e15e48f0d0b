"""The only trafilatura importer: an article page -> its main text.

Two traps of trafilatura 2.x, both avoided here: `deduplicate=True` keeps a
process-wide cache, so a page polled a few times comes back empty; and date
extraction prefers the original date unless `original_date=False`.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import trafilatura
import trafilatura.settings
from lxml import etree
from trafilatura.htmlprocessing import convert_to_html

from feedsvc.errors import ParseError
from feedsvc.isolation import isolated
from feedsvc.models import EntryData
from feedsvc.revisions import is_boilerplate
from feedsvc.text import element_text

EXTRACTOR = f"trafilatura {trafilatura.__version__}"


def _class_has(*fragments: str) -> str:
    return " or ".join(f"contains(@class, '{f}') or contains(@id, '{f}')" for f in fragments)


def _class_token(*tokens: str) -> str:
    return " or ".join(
        f"contains(concat(' ', normalize-space(@class), ' '), ' {t} ')" for t in tokens
    )


# Blocks that sit inside an article's container on most templates but are not
# the article: comment lists and forms, share and like widgets, related and
# "read more" rails, newsletter and membership calls, ad slots, clap and
# response counters. trafilatura drops most of them by itself; these catch the
# ones a template nests deep inside the body. Matched on class/id fragments
# that templates (WordPress/Jetpack, Ghost, newspaper CMSs) use for them.
PRUNE_XPATH = [
    "//*["
    + _class_has(
        "comment",
        "respond",
        "sharedaddy",
        "share-",
        "sharing",
        "social",
        "related",
        "read-more",
        "most-read",
        "newsletter",
        "subscribe",
        "signup",
        "footer-cta",
        "jp-post-flair",
        "likes-",
        "article-actions",
        "post-actions",
        "clap",
        "advert",
        "live-header",
        "live-updated",
    )
    + "]",
    "//*[" + _class_token("ad", "ads", "share", "likes", "byline-reading-time") + "]",
    "//form",
]


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def extract_article(html: str, url: str, key: str | None = None) -> EntryData:
    """Main text of an article page as sanitisable HTML, with its title,
    author and the page's own dates. Navigation, share bars, comment forms
    and comments are left out.

    The work is done by a child process (see isolation.py): an extractor
    that crashes, hangs or runs out of memory is a ParseError for this page."""
    return isolated("feedsvc.extract:read_article", url, read_article, html, url, key)


def read_article(html: str, url: str, key: str | None = None) -> EntryData:
    """extract_article() in this process: what a parser child runs."""
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            include_links=True,
            include_formatting=True,
            deduplicate=False,
            with_metadata=True,
            date_extraction_params={"original_date": False, "extensive_search": True},
            prune_xpath=PRUNE_XPATH,
        )
    except MemoryError:
        raise  # over the parser child's memory limit: isolation.py reports it
    except Exception as exc:  # trafilatura raises ValueError and friends on odd pages
        raise ParseError(f"{url}: cannot extract the article: {exc}") from None
    if not isinstance(doc, trafilatura.settings.Document):
        title = element_text(html, "title")
        return EntryData(
            key=key or url,
            title=title.strip() if title else "",
            url=url,
            html="",
            extractor=EXTRACTOR,
        )
    body_html = _body_html(doc.body) if doc.body is not None else ""
    return EntryData(
        key=key or url,
        title=doc.title or "",
        url=url,
        html=body_html,
        text=doc.text if not body_html else None,
        published=_date(doc.date),
        author=doc.author,
        extractor=EXTRACTOR,
    )


def _drop_boilerplate(body: etree._Element) -> None:
    """Remove paragraphs, headings and list items that are a boilerplate line
    whole ("Image Credit: ...", "Share this:"), so neither the stored HTML
    nor the text shows them."""
    for el in list(body.iter("p", "head", "item", "quote")):
        text = "".join(el.itertext())
        if text.strip() and is_boilerplate(text):
            parent = el.getparent()
            if parent is None:
                continue
            if el.tail and el.tail.strip():
                previous = el.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + el.tail
                else:
                    parent.text = (parent.text or "") + el.tail
            parent.remove(el)


def _body_html(body: etree._Element) -> str:
    """trafilatura's internal XML (<head rend="h2">, <list>, <hi>) as HTML."""
    body = copy.deepcopy(body)
    _drop_boilerplate(body)
    tree = convert_to_html(body)
    found = tree.find(".//body")
    if found is not None:
        tree = found
    inner = "".join(etree.tostring(child, encoding="unicode", method="html") for child in tree)
    return (tree.text or "") + inner
