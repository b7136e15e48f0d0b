"""The only trafilatura importer: an article page -> its headline and main text.

trafilatura finds the article and drops the page around it; feedsvc adds
only what cannot take the article with it:
- per-feed rules (`extract_include`, `extract_exclude`: CSS selectors) applied
  to the page before extraction, for sites the generic extractor gets wrong;
- loose text in mixed content wrapped into paragraphs of its own, so that
  trafilatura does not drop it (a Blogger post body);
- boilerplate lines ("Leave a Reply", "3 Comments") dropped from the body;
- the headline taken from the page (site-name decoration removed) and not
  repeated as the body's first line.

Three traps of trafilatura 2.x, all avoided here: `deduplicate=True` keeps a
process-wide cache, so a page polled a few times comes back empty; date
extraction prefers the original date unless `original_date=False`; and its
`extensive_search` guesses a date from the page's text, a footer's
"© 2026" becoming 2026-01-01: a date the page never gave, which made every
edit of a page look dated (so never a stealth edit).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlsplit

import lxml.html
import trafilatura
import trafilatura.settings
from lxml import etree
from lxml.cssselect import CSSSelector
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.utils import load_html

from feedsvc.config import FeedSettings
from feedsvc.errors import ParseError
from feedsvc.isolation import isolated
from feedsvc.models import EntryData
from feedsvc.nesting import BLOCK_TAGS
from feedsvc.revisions import is_boilerplate
from feedsvc.text import element_text, html_to_text, marked_text

EXTRACTOR = f"trafilatura {trafilatura.__version__}"

# " | Site", " - Site", " — Site", " :: Site", " · Site" at either end
_DECORATION = re.compile("\\s+(?:\\||-|\u2013|\u2014|::|\u00b7|\u2022|\u00bb|/)\\s+")


@dataclass(frozen=True)
class Rules:
    """A feed's own extraction rules: CSS selectors (validated with the
    config), compiled once."""

    include: str | None = None  # the article is what this selects
    exclude: tuple[str, ...] = ()  # never part of the article

    @classmethod
    def of(cls, feed: FeedSettings) -> Rules | None:
        if not feed.extract_include and not feed.extract_exclude:
            return None
        return cls(feed.extract_include, feed.extract_exclude)

    def compiled(self) -> tuple[CSSSelector | None, tuple[CSSSelector, ...]]:
        return _compile(self.include, self.exclude)


@lru_cache(maxsize=256)
def _compile(
    include: str | None, exclude: tuple[str, ...]
) -> tuple[CSSSelector | None, tuple[CSSSelector, ...]]:
    return (
        CSSSelector(include) if include else None,
        tuple(CSSSelector(s) for s in exclude),
    )


@dataclass
class Extraction:
    """What extraction made of a page, for `feedsvc extract`: the entry and
    what the feed's rules took away."""

    entry: EntryData
    removed: list[str] = field(default_factory=list)  # "selector: text..." per element
    include_matched: bool | None = None  # None: no include rule


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def extract_article(
    html: str, url: str, key: str | None = None, rules: Rules | None = None
) -> EntryData:
    """Main text of an article page as sanitisable HTML, with its headline,
    author and the page's own dates. Navigation, share bars, comment forms
    and comments are left out.

    The work is done by a child process (see isolation.py): an extractor
    that crashes, hangs or runs out of memory is a ParseError for this page."""
    return isolated("feedsvc.extract:read_article", url, read_article, html, url, key, rules)


def read_article(
    html: str, url: str, key: str | None = None, rules: Rules | None = None
) -> EntryData:
    """extract_article() in this process: what a parser child runs."""
    return extract(html, url, key, rules).entry


def extract(html: str, url: str, key: str | None = None, rules: Rules | None = None) -> Extraction:
    """extract_article(), with what the feed's rules removed."""
    removed: list[str] = []
    include_matched: bool | None = None
    try:
        tree = _parse(html)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"{url}: cannot read the page: {exc}") from None
    if tree is not None:
        if rules is not None and (rules.include or rules.exclude):
            include_matched = _apply_rules(tree, rules, removed)
        _wrap_loose_text(tree)
    links = _links(tree) if tree is not None else {}
    try:
        doc = trafilatura.bare_extraction(
            tree if tree is not None else html,
            url=url,
            include_comments=False,
            include_tables=True,
            # links and formatting change what trafilatura takes for the
            # article (link density, <b> runs read as headings): on the
            # evaluation corpus both lose article text
            include_links=False,
            include_formatting=False,
            deduplicate=False,
            with_metadata=True,
            # only dates the page declares (meta, JSON-LD, <time>, a byline,
            # its URL), to the second where the page gives the time: a story
            # updated at 14:05 the day it was published has moved its date
            date_extraction_params={
                "original_date": False,
                "extensive_search": False,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z",
            },
        )
    except MemoryError:
        raise  # over the parser child's memory limit: isolation.py reports it
    except Exception as exc:  # trafilatura raises ValueError and friends on odd pages
        raise ParseError(f"{url}: cannot extract the article: {exc}") from None
    if not isinstance(doc, trafilatura.settings.Document):
        raw_title = element_text(html, "title")
        title = clean_title(html_to_text(raw_title) if raw_title else "", url)
        entry = EntryData(key=key or url, title=title, url=url, html="", extractor=EXTRACTOR)
        return Extraction(entry, removed, include_matched)
    title = clean_title(doc.title or "", url, doc.sitename, _headings(tree))
    body = doc.body if doc.body is None or tree is None else _restructured(doc.body, tree)
    body_html = _body_html(body, title, links) if body is not None else ""
    entry = EntryData(
        key=key or url,
        title=title,
        url=url,
        html=body_html,
        text=doc.text if not body_html else None,
        published=_date(doc.date),
        author=doc.author,
        extractor=EXTRACTOR,
    )
    return Extraction(entry, removed, include_matched)


def _restructured(body: etree._Element, tree: lxml.html.HtmlElement) -> etree._Element:
    """trafilatura's last resort (its baseline) takes an <article>'s, or the
    page's, whole text as one paragraph: headline, byline, every paragraph
    and whatever counter sits among them in one run, so no line of it can be
    told from another, a diff is one paragraph, and a moving "Viewed 8,428
    times" makes a revision. When the body is that one paragraph, it is cut
    back into the paragraphs of the element it came from: the same words in
    the same order, a paragraph for each run of text between that element's
    block boundaries (what trafilatura pruned from it is simply not found)."""
    if len(body) != 1 or body[0].tag != "p" or len(body[0]) or not body[0].text:
        return body
    text = " ".join(body[0].text.split())
    if len(text) > RESTRUCTURE_MAX_CHARS:
        return body
    sources = [a for a in tree.iter("article") if not any(a.iterancestors("article"))]
    page_body = tree.find("body")
    if page_body is not None:
        sources.append(page_body)
    cuts = []
    for source in sources:
        runs = _block_runs(source)
        if 2 * sum(map(len, runs)) >= len(text):  # could hold half of it
            cuts.append(_cut(text, runs))
    found, best = max(cuts, default=(0, []))  # the element the most text is found in
    if found * 2 < len(text) or len(best) < 2:
        return body
    rebuilt = etree.Element(body.tag)
    for paragraph in best:
        etree.SubElement(rebuilt, "p").text = paragraph
    return rebuilt


RESTRUCTURE_MAX_CHARS = 200_000
CUT_WINDOW = 2_000  # characters past the last run found where the next may begin


def _block_runs(element: etree._Element) -> list[str]:
    """The runs of text between an element's block boundaries (and <br>s),
    each with its whitespace folded: the lines html_to_text makes of it."""
    lines = marked_text(copy.deepcopy(element)).split("\n")
    return [run for line in lines if (run := " ".join(line.split()))]


def _cut(text: str, runs: list[str]) -> tuple[int, list[str]]:
    """`text` cut into paragraphs where the runs it holds, in order, begin
    and end (whole words only); text between found runs is a paragraph of
    its own. Every character of `text` is kept. With the number of its
    characters found in a run."""
    out: list[str] = []
    pos = found = 0
    for run in runs:
        # a run is looked for near where the last one ended: linear time,
        # whatever the page
        window = pos + len(run) + CUT_WINDOW
        at = text.find(run, pos, window)
        while at >= 0 and not _whole_words(text, at, at + len(run)):
            at = text.find(run, at + 1, window)
        if at < 0:
            continue  # pruned by trafilatura, or not in the text
        if text[pos:at].strip():
            out.append(text[pos:at].strip())
        out.append(run)
        found += len(run)
        pos = at + len(run)
    if text[pos:].strip():
        out.append(text[pos:].strip())
    return found, out


def _whole_words(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1] == " ") and (end == len(text) or text[end] == " ")


def _parse(html: str) -> lxml.html.HtmlElement | None:
    """The page as trafilatura itself would parse it."""
    if not html.strip():
        return None
    tree = load_html(html)
    return tree if isinstance(tree, lxml.html.HtmlElement) else None


def _snippet(el: etree._Element) -> str:
    text = " ".join("".join(el.itertext()).split())
    if len(text) <= 80:
        return text
    return text[:80].rsplit(" ", 1)[0] + "…"


def _apply_rules(tree: lxml.html.HtmlElement, rules: Rules, removed: list[str]) -> bool | None:
    include, exclude = rules.compiled()
    matched: bool | None = None
    if include is not None:
        chosen = include(tree)
        matched = bool(chosen)
        body = tree.find("body")
        if chosen and body is not None:
            # the article is what the selector picks: the rest of <body> goes
            keep = [copy.deepcopy(el) for el in chosen if not _inside_any(el, chosen)]
            for child in list(body):
                body.remove(child)
            body.text = None
            wrapper = etree.SubElement(body, "article")
            for el in keep:
                wrapper.append(el)
    for selector, compiled in zip(rules.exclude, exclude, strict=True):
        for el in compiled(tree):
            parent = el.getparent()
            if parent is None:
                continue
            removed.append(f"{selector}: {_snippet(el)}")
            _remove(el)
    return matched


def _inside_any(el: etree._Element, others: list[etree._Element]) -> bool:
    return any(a in others for a in el.iterancestors())


def _remove(el: etree._Element) -> None:
    """Remove an element, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _wrap_loose_text(tree: lxml.html.HtmlElement) -> None:
    """Put each run of loose text in mixed content (an element with text of
    its own and blocks with text after them) into a <p> of its own. A
    Blogger post body is one <div> of text, <br>s and <div>s, and
    trafilatura drops a block's tail: a line written between two <div>s was
    never stored, nor any edit of it. Every run of such an element is
    wrapped, its first too (wrapping only the tails made trafilatura read
    the element as a container of <p>s and drop its own first lines).
    Wrapping loose text everywhere (among a page's furniture too) made
    trafilatura choose other blocks on 3 corpus pages (bench/RESULTS.md)."""
    mixed = {
        parent
        for el in tree.iter()
        if isinstance(el.tag, str)
        and el.tag in BLOCK_TAGS
        and el.tail
        and el.tail.strip()
        and (parent := el.getparent()) is not None
        and parent.tag != "html"
        and parent.text
        and parent.text.strip()
    }
    for parent in mixed:
        _wrap_run(parent, None)
        for el in list(parent):
            if isinstance(el.tag, str) and el.tag in BLOCK_TAGS:
                _wrap_run(parent, el)


def _wrap_run(parent: etree._Element, block: etree._Element | None) -> None:
    """Wrap in a <p> the text after `block` (None: the parent's own first
    text) and the inline elements after it, up to the next block."""
    text = parent.text if block is None else block.tail
    following = parent[0] if block is None and len(parent) else None
    if block is not None:
        following = block.getnext()
    run = []
    while following is not None and not (
        isinstance(following.tag, str) and following.tag in BLOCK_TAGS
    ):
        run.append(following)
        following = following.getnext()
    words = (text or "") + "".join(
        "".join(el.itertext()) + (el.tail or "") for el in run if isinstance(el.tag, str)
    )
    if not words.strip():
        return
    p = etree.Element("p")
    p.text = text
    if block is None:
        parent.text = None
        parent.insert(0, p)
    else:
        block.tail = None
        block.addnext(p)
    for el in run:
        p.append(el)  # moves it, with its tail


# block text (folded) -> [(anchor text, href)] in page order
Links = dict[str, list[tuple[str, str]]]
_BLOCKS = frozenset(
    ["p", "li", "td", "th", "dd", "dt", "blockquote", "figcaption", "h2", "h3", "h4"]
)


def _links(tree: lxml.html.HtmlElement) -> Links:
    """The page's links by the block they sit in. trafilatura extracts best
    without links (link density misleads it), so they are put back after."""
    out: Links = {}
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        text = " ".join(a.text_content().split())
        if not href.startswith(("http://", "https://")) or len(text) < 2:
            continue
        block = next((b for b in a.iterancestors() if b.tag in _BLOCKS), None)
        if block is not None:
            out.setdefault(_fold(block.text_content()), []).append((text, href))
    return out


def _relink(body: etree._Element, links: Links) -> None:
    """Put a page's links back into the extracted blocks whose text is the
    text of the block they were in (trafilatura's <ref target=...>)."""
    if not links:
        return
    for el in list(body.iter("p", "item", "cell", "quote", "head")):
        found = links.get(_fold("".join(el.itertext())))
        if not found or len(el):
            continue  # only plain-text blocks: nothing nested to split
        text = el.text or ""
        el.text = ""
        last: etree._Element | None = None
        for anchor, href in found:
            at = text.find(anchor)
            if at < 0:
                continue
            if last is None:
                el.text = text[:at]
            else:
                last.tail = text[:at]
            ref = etree.SubElement(el, "ref", target=href)
            ref.text = anchor
            last, text = ref, text[at + len(anchor) :]
        if last is None:
            el.text = text
        else:
            last.tail = text


def _headings(tree: lxml.html.HtmlElement | None) -> list[str]:
    if tree is None:
        return []
    return [" ".join(h.text_content().split()) for h in tree.iter("h1")][:5]


def _fold(value: str) -> str:
    return re.sub(r"[\W_]+", "", value.casefold())


def clean_title(
    title: str, url: str, sitename: str | None = None, headings: list[str] | None = None
) -> str:
    """The headline without site-name decoration ("Headline | Site",
    "Site - Headline"): a part naming the site (its name or its host) goes,
    and when the page's own <h1> is one of the parts, that part is it."""
    title = " ".join(title.split())
    separators = list(_DECORATION.finditer(title))
    if not separators:
        return title
    starts = [0] + [m.end() for m in separators]
    ends = [m.start() for m in separators] + [len(title)]
    parts = [title[a:b] for a, b in zip(starts, ends, strict=True)]
    folded = [_fold(p) for p in parts]
    for heading in headings or ():
        if _fold(heading) and _fold(heading) in folded:
            return heading
    names = _site_names(url, sitename)
    first, last = 0, len(parts) - 1
    while last > first and _names_site(parts[last], names):
        last -= 1
    while last > first and _names_site(parts[first], names):
        first += 1
    return title[starts[first] : ends[last]]


def _site_names(url: str, sitename: str | None) -> set[str]:
    names = set()
    if sitename:
        names.add(_fold(sitename))
    host = (urlsplit(url).hostname or "").lower()
    labels = [x for x in host.split(".") if x not in ("www", "m", "amp", "news", "blog", "blogs")]
    if labels:
        names.add(_fold(".".join(labels)))
        for label in labels[:-1]:
            if len(label) >= 3:
                names.add(_fold(label))
    return {n for n in names if n}


def _names_site(part: str, names: set[str]) -> bool:
    folded = _fold(part)
    if not folded:
        return True
    return any(
        folded == n or (len(n) >= 3 and n in folded and len(folded) <= len(n) + 12) for n in names
    )


# Furniture a CMS writes inside the article's container, in the languages
# news is commonly written in: a pointer to other stories ("Read more: ...",
# "Lea también: ...", "Lesen Sie auch: ..."), a section label ("Related
# content", "Weitere Themen"), a call to subscribe or follow. Matched on a
# short block (FURNITURE_MAX_WORDS) that starts with it; never mid-sentence.
_LEAD_INS = (
    r"read (more|also|next)|see also|related( articles?| stories| content| posts)?|"
    r"more on this( story)?|recommended( reading| for you)?|you may also like|"
    r"sign up|subscribe( now)?|follow (us|the \w+)|get the \w+( \w+)? newsletter|"
    r"lea (también|más|además)|lea|vea también|mira|mire|le puede interesar|puedes ver|"
    r"te puede interesar|notas relacionadas|contenido relacionado|"
    r"lesen sie (auch|mehr)|auch lesen|mehr zum thema|mehr themen|weitere themen|"
    r"weitere (artikel|beiträge|informationen)|zum weiterlesen|schon gelesen|auch interessant|"
    r"das könnte (dich|sie) auch interessieren|empfohlene beiträge|teilen mit|"
    r"à lire aussi|lire aussi|voir aussi|czytaj (też|także|również)|dowiedz się więcej|"
    r"leggi anche|vedi anche"
)
_FURNITURE = re.compile(
    rf"^\W*(?:(?:{_LEAD_INS})\b\s*(?:[:?!.|»>-]|$)"
    r"|(?:sign up|subscribe( now)?|register now) (to|for)\b|follow (us|the \w+( \w+)?) on\b)",
    re.IGNORECASE,
)
FURNITURE_MAX_WORDS = 25
# Notices a template writes beside the article's text, each a short block of
# its own (NOTICE_MAX_WORDS): an image credit ("Foto: ...", "(Bild: ...)",
# "Crédit photo : ...", "© Agency"), a copyright line, a comment count, a
# "last updated" stamp, a reading time.
_NOTICE = re.compile(
    r"^\W*(?:"
    r"(?:(?:title|titel|cover|header|featured|beitrags|aufmacher)[ -]?)?"
    r"(?:photo|foto|bild|image|picture)s?[ -]?(?:credits?|courtesy|quelle|source|nachweis)?\s?:"
    r"|(?:photo |image )?credits?\s?:|cr[ée]dits?(?: photos?)?\s?:|fot\.\s|©|\(c\)\s"
    r"|copyright\s*(?:©|\(c\)|\d{4}|:)"
    r"|(?:no|keine|aucun|sin|brak|nessun|\d+)\s(?:comments?|kommentare?|commentaires?|comentarios?"
    r"|komentarz[ey]?|commenti)\s*(?:$|[(:/|])|kommentare insgesamt\b"
    r"|(?:last (?:modified|updated)|letzte (?:änderung|aktualisierung)|zuletzt (?:aktualisiert|geändert)"
    r"|dernière mise à jour|mis à jour|actualizado|última actualización|ostatnia aktualizacja)"
    r"(?:\s*:|\s+(?:on|am|le|el|em|the))?\s*\d"
    r"|(?:reading time|lesezeit|lesedauer|temps de lecture)\s?:?\s?\d|\d+\s?min(?:utes?)?\.? read\b"
    r")"
    r"|\b(?:all rights reserved|alle rechte vorbehalten|tous droits réservés"
    r"|todos los derechos reservados|wszelkie prawa zastrzeżone|tutti i diritti riservati)\b",
    re.IGNORECASE,
)
NOTICE_MAX_WORDS = 20
# What a template computes afresh for every request, anywhere in a short
# block (VOLATILE_MAX_WORDS): a relative time ("Updated 5 minutes ago", "vor
# 3 Stunden") or a live count of readers. Such a line changes while the
# article does not: kept, it would make a revision of every poll.
_VOLATILE = re.compile(
    r"\b(?:\d+|an?|one) (?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?) ago\b"
    r"|\bvor (?:\d+|einer?) (?:sekunden?|minuten?|stunden?|tag(?:en)?)\b"
    r"|\bil y a \d+ (?:secondes?|minutes?|heures?|jours?)\b"
    r"|\bhace \d+ (?:segundos?|minutos?|horas?|días?)\b"
    r"|\b\d[\d,.]* (?:people|readers|users|visitors) (?:are )?(?:reading|viewing|watching|online)\b",
    re.IGNORECASE,
)
VOLATILE_MAX_WORDS = 12


def _is_furniture(text: str) -> bool:
    words = text.split()
    if not words:
        return False
    if len(words) <= NOTICE_MAX_WORDS and _NOTICE.search(text):
        return True
    if len(words) <= VOLATILE_MAX_WORDS and _VOLATILE.search(text):
        return True
    return len(words) <= FURNITURE_MAX_WORDS and bool(_FURNITURE.match(text))


def _drop_boilerplate(body: etree._Element) -> None:
    """Remove paragraphs, headings and list items that are a boilerplate line
    whole ("Image Credit: ...", "Share this:") or a short block of CMS
    furniture ("Read more: ...", "Weitere Themen", "Foto: dpa", "3 Kommentare"),
    so neither the stored HTML nor the text shows them."""
    for el in list(body.iter("p", "head", "item", "quote")):
        text = " ".join("".join(el.itertext()).split())
        if not text or el.getparent() is None:
            continue
        if is_boilerplate(text) or _is_furniture(text):
            _remove(el)


def _drop_headline(body: etree._Element, title: str) -> None:
    """The headline is the version's title: a first block that repeats it
    (the page's <h1> inside the article) is not body text."""
    wanted = _fold(title)
    if not wanted:
        return
    for el in body.iter("head", "p"):
        text = _fold("".join(el.itertext()))
        if not text:
            continue
        if text == wanted and el.getparent() is not None:
            _remove(el)
        break


_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")


def _strip_invisible(body: etree._Element) -> None:
    """Soft hyphens and zero-width spaces: invisible on the page, but they
    split words for anyone comparing text."""
    for el in body.iter():
        if el.text:
            el.text = _INVISIBLE.sub("", el.text)
        if el.tail:
            el.tail = _INVISIBLE.sub("", el.tail)


def _body_html(body: etree._Element, title: str, links: Links) -> str:
    """trafilatura's internal XML (<head rend="h2">, <list>, <hi>) as HTML."""
    body = copy.deepcopy(body)
    _strip_invisible(body)
    _relink(body, links)
    _drop_boilerplate(body)
    _drop_headline(body, title)
    tree = convert_to_html(body)
    found = tree.find(".//body")
    if found is not None:
        tree = found
    inner = "".join(etree.tostring(child, encoding="unicode", method="html") for child in tree)
    return (tree.text or "") + inner
