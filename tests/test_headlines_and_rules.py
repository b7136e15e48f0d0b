"""The page is the authority on its headline, and per-feed extraction rules.

A local HTTP server plays a news site whose feed goes stale while its
article page changes; `feedsvc extract` and `feedsvc reextract` are run as a
user runs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feedsvc import config
from feedsvc.cli import main
from feedsvc.errors import ConfigError
from feedsvc.extract import clean_title, extract_article
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app

OLD = "Council approves new bridge budget"
NEW = "Council approves £15m footbridge after two-year row"
BODY = [
    "The city council on Tuesday approved the budget for a footbridge across the river "
    "at Millbank, ending two years of argument over its cost and its route.",
    "Councillors voted 31 to 12 for the plan, which the transport committee said would "
    "take cyclists and pedestrians off the busy road bridge a mile downstream.",
    "Work is due to start in the spring and take eighteen months, the council said, with "
    "the old ferry landing kept open until the bridge is finished.",
]


def article_page(headline: str, paragraphs: list[str], extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{headline} | Evening Courier</title>
<meta property="og:title" content="{headline} | Evening Courier"></head><body>
<nav class="site-nav"><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<main><article class="story"><h1 class="story-headline">{headline}</h1>
<div class="story-body">{body}</div>{extra}</article></main>
<footer class="site-footer"><p>© Evening Courier. All rights reserved.</p></footer>
</body></html>"""


class Site:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.items: list[tuple[str, str]] = []
        self.pages: dict[str, str] = {}
        server.expect_request("/feed.xml").respond_with_handler(self.feed)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def publish(self, path: str, html: str) -> None:
        if path not in self.pages:
            self.server.expect_request(path).respond_with_handler(
                lambda r: Response(self.pages[r.path], content_type="text/html; charset=utf-8")
            )
        self.pages[path] = html

    def feed(self, request: Request) -> Response:
        items = "".join(
            f"<item><title>{t}</title><link>{self.url(p)}</link><guid>{self.url(p)}</guid>"
            "<description>A short summary.</description></item>"
            for t, p in self.items
        )
        return Response(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Courier</title><link>{self.url('/')}</link><description>News</description>"
            f"{items}</channel></rss>",
            content_type="application/rss+xml; charset=utf-8",
        )


@pytest.fixture
def retitled(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any
) -> tuple[Site, Any, Store, str]:
    """A page whose headline changed from OLD to NEW while its feed kept
    OLD, polled before and after: (site, settings, store, article id)."""
    site = Site(httpserver)
    site.items = [(OLD, "/bridge")]
    site.publish("/bridge", article_page(OLD, BODY))
    settings = make_settings(
        [{"name": "courier", "sources": [site.url("/feed.xml")], "fetch_articles": True}]
    )
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/bridge")).id

    # The page's headline changes; the feed keeps the old title.
    site.publish("/bridge", article_page(NEW, BODY))
    site.items.append(("Library hours cut", "/library"))
    site.publish("/library", article_page("Library hours cut", BODY[::-1]))
    clock.advance(900)
    updater.poll("w", due_only=False, everything=True)  # what `feedsvc poll` does
    return site, settings, store, aid


def test_a_headline_changed_on_the_page_is_a_headline_revision_though_the_feed_is_stale(
    retitled: tuple[Site, Any, Store, str],
) -> None:
    site, settings, store, aid = retitled
    versions = store.get_versions(aid, full=True)
    assert [(v.title, v.change_class) for v in versions] == [
        (OLD, "initial"),
        (NEW, "headline"),
    ]
    assert versions[-1].text.split("\n\n") == BODY  # no headline line in the body
    client = create_app(settings, store).test_client()
    assert client.get(f"/api/articles/{aid}").get_json()["title"] == NEW
    atom = feedparser.parse(client.get("/feeds/courier.atom").data)
    assert [e.title for e in atom.entries if e.link == site.url("/bridge")] == [NEW]
    index = lxml.html.fromstring(client.get("/").get_data(as_text=True))
    [revision] = [li for li in index.cssselect("section li") if NEW in li.text_content()]
    assert revision.cssselect("a")[0].text_content() == NEW
    assert " ".join(revision.cssselect(".headline")[0].text_content().split()) == (
        f"Headline was: {OLD}"
    )
    page = lxml.html.fromstring(client.get(f"/articles/{aid}").get_data(as_text=True))
    assert [" ".join(h.text_content().split()) for h in page.cssselect("h1")] == [NEW]


def test_the_entrys_update_history_tells_the_headline_change_once(
    retitled: tuple[Site, Any, Store, str],
) -> None:
    site, settings, store, _ = retitled
    client = create_app(settings, store).test_client()
    atom = feedparser.parse(client.get("/feeds/courier.atom").data)
    [entry] = [e for e in atom.entries if e.link == site.url("/bridge")]
    history = lxml.html.fromstring(entry.content[0].value).cssselect("li")
    line = " ".join(history[0].text_content().split())  # newest first
    assert line.startswith("Version 2, ")
    assert f"headline changed from “{OLD}” to “{NEW}”" in line
    assert line.count("headline") == 1


@pytest.mark.parametrize(
    ("title", "url", "headline"),
    [
        ("Council approves new bridge budget | Evening Courier", "https://courier.example/a", OLD),
        ("Council approves new bridge budget - The Courier", "https://www.courier.example/a", OLD),
        ("BBC News - Council approves new bridge budget", "https://www.bbc.co.uk/news/1", OLD),
        ("Harwick derailment: 12 dead", "https://courier.example/a", "Harwick derailment: 12 dead"),
        # a dash inside a headline that names nothing of the site stays
        ("Storm - and then silence", "https://courier.example/a", "Storm - and then silence"),
    ],
)
def test_site_name_decoration_is_removed_from_the_headline(
    title: str, url: str, headline: str
) -> None:
    assert clean_title(title, url) == headline


PROMO = (
    '<div class="story-promo"><p>Our reporters have covered the city council for forty '
    "years, and we rely on readers like you to keep doing it: give what you can.</p></div>"
)


def test_extract_exclude_removes_what_it_selects_before_extraction(tmp_path: Path) -> None:
    html = article_page(OLD, BODY, extra=PROMO)
    plain = extract_article(html, "https://courier.example/bridge")
    assert "readers like you" in plain.html
    settings = config.from_mapping(
        {
            "feeds": [
                {
                    "name": "c",
                    "sources": ["https://courier.example/feed.xml"],
                    "extract_exclude": [".story-promo"],
                }
            ]
        }
    )
    from feedsvc.extract import Rules

    ruled = extract_article(html, "https://courier.example/b", rules=Rules.of(settings.feeds[0]))
    assert "readers like you" not in ruled.html
    assert all(p in ruled.html for p in BODY)


def test_extract_include_makes_the_article_what_it_selects() -> None:
    from feedsvc.extract import Rules

    html = article_page(OLD, BODY, extra=PROMO)
    entry = extract_article(html, "https://courier.example/b", rules=Rules(".story-body"))
    assert "readers like you" not in entry.html
    assert all(p in entry.html for p in BODY)


@pytest.mark.parametrize(
    ("key", "value"),
    [("extract_include", "div[class="), ("extract_exclude", [".ok", "p::nonsense("])],
)
def test_a_bad_selector_is_one_config_error_naming_the_key(key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        config.from_mapping(
            {"feeds": [{"name": "c", "sources": ["https://courier.example/f"], key: value}]}
        )
    message = str(caught.value)
    assert f"feeds[0].{key}" in message and "\n" not in message


def write_config(tmp_path: Path, feed: dict[str, Any]) -> Path:
    lines = ["[service]", f'database = "sqlite:///{tmp_path}/feedsvc.db"', "", "[[feeds]]"]
    for k, v in feed.items():
        lines.append(f"{k} = {v!r}".replace("'", '"'))
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_feedsvc_extract_prints_what_would_be_stored_and_what_the_rules_removed(
    tmp_path: Path,
) -> None:
    page = tmp_path / "bridge.html"
    page.write_text(article_page(NEW, BODY, extra=PROMO), encoding="utf-8")
    cfg = write_config(
        tmp_path,
        {"name": "courier", "sources": [str(tmp_path)], "extract_exclude": [".story-promo"]},
    )
    result = CliRunner().invoke(
        main, ["extract", str(page), "--feed", "courier", "--config", str(cfg)]
    )
    assert result.exit_code == 0, result.output
    head, _, text = result.output.partition("\n\n")
    assert head.splitlines() == [
        f"title: {NEW}",
        f"words: {sum(len(p.split()) for p in BODY)}",
        "extract_exclude '.story-promo': removed 1",
        "  - Our reporters have covered the city council for forty years, and we rely on…",
    ]
    assert text.strip().split("\n\n") == BODY
    assert not (tmp_path / "feedsvc.db").exists()  # nothing stored, no database made


def test_feedsvc_extract_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, {"name": "courier", "sources": [str(tmp_path)]})
    result = CliRunner().invoke(
        main, ["extract", str(tmp_path / "nope.html"), "--config", str(cfg)]
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "nope.html" in result.output


def test_feedsvc_extract_of_a_page_that_answers_404_is_one_line_naming_it_once(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/gone.html").respond_with_data("not here", status=404)
    url = httpserver.url_for("/gone.html")
    cfg = write_config(tmp_path, {"name": "courier", "sources": [str(tmp_path)]})
    result = CliRunner().invoke(main, ["extract", url, "--config", str(cfg)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.count(url) == 1 and "404" in result.output


def test_reextract_after_a_rule_change_versions_only_the_pages_it_changes(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any
) -> None:
    httpserver.expect_request("/bridge").respond_with_data(
        article_page(OLD, BODY, extra=PROMO), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/library").respond_with_data(
        article_page("Library hours cut", BODY[::-1]), content_type="text/html; charset=utf-8"
    )
    settings = make_settings(
        [
            {
                "name": "courier",
                "sources": [httpserver.url_for("/bridge"), httpserver.url_for("/library")],
            }
        ]
    )
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    Updater(settings, store, clock=clock).poll("w", due_only=False)

    text = settings.path.read_text().replace(
        'name = "courier"', 'name = "courier"\nextract_exclude = [".story-promo"]'
    )
    settings.path.write_text(text)
    run = CliRunner().invoke(main, ["reextract", "--config", str(settings.path)])
    assert run.output.strip() == "re-extracted 2 articles: 1 new versions"
    bridge = store.find_article(httpserver.url_for("/bridge")).id
    library = store.find_article(httpserver.url_for("/library")).id
    assert len(store.get_versions(library)) == 1
    latest = store.get_versions(bridge, full=True)[-1]
    assert latest.number == 2 and "readers like you" not in latest.text
