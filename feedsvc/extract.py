"""The only trafilatura importer: an article page -> its main text.

Two traps of trafilatura 2.x, both avoided here: `deduplicate=True` keeps a
process-wide cache, so a page polled a few times comes back empty; and date
extraction prefers the original date unless `original_date=False`.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime

import trafilatura
import trafilatura.settings
from lxml import etree
from trafilatura.htmlprocessing import convert_to_html

from feedsvc.errors import ParseError
from feedsvc.models import EntryData

EXTRACTOR = f"trafilatura {trafilatura.__version__}"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


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
    and comments are left out."""
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
        )
    except Exception as exc:  # trafilatura raises ValueError and friends on odd pages
        raise ParseError(f"{url}: cannot extract the article: {exc}") from None
    if not isinstance(doc, trafilatura.settings.Document):
        m = _TITLE.search(html)
        return EntryData(
            key=key or url,
            title=m.group(1).strip() if m else "",
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


def _body_html(body: etree._Element) -> str:
    """trafilatura's internal XML (<head rend="h2">, <list>, <hi>) as HTML."""
    tree = convert_to_html(copy.deepcopy(body))
    found = tree.find(".//body")
    if found is not None:
        tree = found
    inner = "".join(etree.tostring(child, encoding="unicode", method="html") for child in tree)
    return (tree.text or "") + inner
