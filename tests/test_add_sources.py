"""Adding sources the way people have them: `feedsvc add` with feed
discovery on realistic pages, `feedsvc import` of reader OPML exports,
`feedsvc remove` and `feedsvc sources`; config.toml keeps its comments and
layout, and a refused change leaves it byte for byte as it was."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from feedsvc.discover import discover
from feedsvc.errors import UsageError
from feedsvc.opml import read_opml
from tests.harness import cli_env

CONFIG = """\
# feedsvc for the night desk
[service]
base_url = "http://feeds.test"   # behind the proxy
database = "sqlite:///{db}"

[scheduler]
interval = "15m"

# Local stories first
[[feeds]]
name = "city"
title = "City News"
sources = ["stories"]   # the desk's own folder
"""

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>The Harbour Gazette</title>
<link>http://gazette.test/</link><description>News</description>
<item><title>Bridge closed</title><link>http://gazette.test/bridge</link>
<guid>bridge-1</guid></item></channel></rss>
"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Gazette (Atom)</title>
<id>urn:gazette</id><updated>2026-03-01T09:00:00Z</updated>
<entry><title>Bridge closed</title><id>urn:bridge</id><updated>2026-03-01T09:00:00Z</updated></entry>
</feed>
"""
HOME = """<!doctype html>
<html><head><meta charset="utf-8">
<title>Latest news | The Harbour Gazette</title>
<meta property="og:site_name" content="The Harbour Gazette">
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="Gazette - Comments" href="/comments/feed/">
<link rel="alternate" type="application/rss+xml" title="Gazette" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="Gazette (Atom)" href="//{host}/atom.xml">
<link rel="alternate" hreflang="fr" href="/fr/">
</head><body><h1>Latest news</h1><p>Bridge closed.</p></body></html>
"""
PLAIN = """<!doctype html><html><head><title>Council statement - Town Hall</title></head>
<body><article><h1>Council statement</h1><p>The council met on Monday.</p></article></body></html>
"""


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    host = f"{httpserver.host}:{httpserver.port}"
    httpserver.expect_request("/").respond_with_data(
        HOME.replace("{host}", host), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    httpserver.expect_request("/atom.xml").respond_with_data(
        ATOM, content_type="application/atom+xml"
    )
    httpserver.expect_request("/comments/feed/").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    httpserver.expect_request("/statement").respond_with_data(PLAIN, content_type="text/html")
    return httpserver


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    (tmp_path / "stories").mkdir()
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(db=tmp_path / "feedsvc.db"), encoding="utf-8")
    return path


def feedsvc(config_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args, "--config", str(config_file)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )


def feeds_of(config_file: Path) -> dict[str, dict[str, object]]:
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    return {f["name"]: f for f in data["feeds"]}


# -- discovery -----------------------------------------------------------------


def test_a_page_advertising_feeds_lists_them_resolved() -> None:
    found = discover(
        "http://gazette.test/news/", "text/html", HOME.replace("{host}", "cdn.test").encode()
    )
    assert found.kind == "page with feeds"
    assert found.title == "The Harbour Gazette"
    assert [(a.kind, a.url) for a in found.alternates] == [
        ("RSS", "http://gazette.test/comments/feed/"),
        ("RSS", "http://gazette.test/feed.xml"),
        ("Atom", "http://cdn.test/atom.xml"),  # protocol-relative
    ]


def test_the_first_news_feed_is_chosen_before_a_comments_feed() -> None:
    found = discover("http://gazette.test/", "text/html", HOME.replace("{host}", "x").encode())
    assert [a.url for a in found.chosen(every=False)] == ["http://gazette.test/feed.xml"]
    assert [a.url for a in found.chosen(every=True)][-1] == "http://gazette.test/comments/feed/"


def test_a_feed_is_recognised_by_its_content_whatever_its_type() -> None:
    found = discover("http://gazette.test/feed", "text/plain", RSS.encode())
    assert (found.kind, found.title) == ("feed", "The Harbour Gazette")
    atom = discover("http://gazette.test/atom", "application/octet-stream", ATOM.encode())
    assert (atom.kind, atom.title) == ("feed", "Gazette (Atom)")


def test_a_json_feed_is_a_feed() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "Gazette JSON", "items": []}'
    found = discover("http://gazette.test/feed.json", "application/feed+json", body)
    assert (found.kind, found.title) == ("feed", "Gazette JSON")


def test_a_base_href_is_honoured() -> None:
    page = (
        '<html><head><base href="http://static.test/site/">'
        '<link rel="alternate" type="application/atom+xml" href="atom.xml"></head></html>'
    )
    found = discover("http://gazette.test/", "text/html", page.encode())
    assert [a.url for a in found.alternates] == ["http://static.test/site/atom.xml"]


def test_a_page_without_feeds_is_a_page() -> None:
    found = discover("http://hall.test/statement", "text/html", PLAIN.encode())
    assert (found.kind, found.alternates) == ("page", ())


# -- feedsvc add ---------------------------------------------------------------


def test_add_a_site_follows_its_first_feed_in_a_new_feed_named_after_it(
    site: HTTPServer, config_file: Path
) -> None:
    result = feedsvc(config_file, "add", site.url_for("/"))
    assert result.returncode == 0, result.stderr
    assert "advertises 3 feed(s)" in result.stdout
    # Named after the site's host (here the test server's).
    assert f"added {site.url_for('/feed.xml')} to new feed '{site.host}'" in result.stdout
    new = feeds_of(config_file)[site.host]
    assert new["sources"] == [site.url_for("/feed.xml")]
    assert new["title"] == "The Harbour Gazette"


def test_add_all_follows_every_advertised_feed(site: HTTPServer, config_file: Path) -> None:
    result = feedsvc(config_file, "add", site.url_for("/"), "--all", "--feed", "gazette")
    assert result.returncode == 0, result.stderr
    assert feeds_of(config_file)["gazette"]["sources"] == [
        site.url_for("/feed.xml"),
        site.url_for("/atom.xml"),
        site.url_for("/comments/feed/"),
    ]


def test_add_a_feed_url_directly(site: HTTPServer, config_file: Path) -> None:
    result = feedsvc(
        config_file, "add", site.url_for("/feed.xml"), "--feed", "city", "--fetch-articles"
    )
    assert result.returncode == 0, result.stderr
    city = feeds_of(config_file)["city"]
    assert city["sources"] == ["stories", site.url_for("/feed.xml")]
    assert city["fetch_articles"] is True
    assert city["title"] == "City News"  # an existing feed keeps its title


def test_add_a_page_without_feeds_follows_the_page(site: HTTPServer, config_file: Path) -> None:
    result = feedsvc(config_file, "add", site.url_for("/statement"), "--title", "Town Hall")
    assert result.returncode == 0, result.stderr
    assert "without a feed" in result.stdout
    assert feeds_of(config_file)[site.host] == {
        "name": site.host,
        "title": "Town Hall",
        "sources": [site.url_for("/statement")],
    }


def test_add_keeps_comments_blank_lines_and_key_order(site: HTTPServer, config_file: Path) -> None:
    before = config_file.read_text(encoding="utf-8")
    assert feedsvc(config_file, "add", site.url_for("/"), "--feed", "gazette").returncode == 0
    after = config_file.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # every line as it was, then the new feed
    assert "# Local stories first" in after
    assert 'sources = ["stories"]   # the desk\'s own folder' in after


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--feed", "bad name!"], "must be letters, digits"),
        ([], "already followed"),
    ],
)
def test_a_refused_add_is_one_line_exit_2_and_leaves_the_file_unchanged(
    site: HTTPServer, config_file: Path, args: list[str], message: str
) -> None:
    if message == "already followed":
        assert feedsvc(config_file, "add", site.url_for("/feed.xml")).returncode == 0
    before = config_file.read_bytes()
    result = feedsvc(config_file, "add", site.url_for("/feed.xml"), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert config_file.read_bytes() == before


def test_add_of_nothing_reachable_is_one_line_exit_2(site: HTTPServer, config_file: Path) -> None:
    before = config_file.read_bytes()
    result = feedsvc(config_file, "add", site.url_for("/missing"))
    assert result.returncode == 2
    assert "nothing reachable" in result.stderr
    assert result.stderr.count(site.url_for("/missing")) == 1
    assert config_file.read_bytes() == before


# -- feedsvc import ------------------------------------------------------------

FRESHRSS = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>FreshRSS</title></head>
  <body>
    <outline text="World News">
      <outline text="Gazette" type="rss" xmlUrl="{url}/feed.xml" htmlUrl="{url}/"/>
      <outline text="Gazette Atom" type="rss" xmlUrl="{url}/atom.xml"/>
    </outline>
    <outline text="Tech">
      <outline text="Gadgets">
        <outline text="Nested" type="rss" xmlUrl="http://nested.test/rss"/>
      </outline>
      <outline text="Gazette again" type="rss" xmlUrl="{url}/feed.xml/"/>
      <outline text="Just a homepage" htmlUrl="http://homepage.test/"/>
    </outline>
    <outline text="Loose" type="rss" xmlUrl="http://loose.test/feed"/>
    <outline text="FTP" type="rss" xmlUrl="ftp://old.test/feed"/>
  </body>
</opml>
"""


def test_opml_outlines_are_read_with_their_outermost_category() -> None:
    listing = read_opml(FRESHRSS.replace("{url}", "http://g.test").encode())
    assert [(s.url, s.category) for s in listing.subscriptions] == [
        ("http://g.test/feed.xml", "World News"),
        ("http://g.test/atom.xml", "World News"),
        ("http://nested.test/rss", "Tech"),
        ("http://g.test/feed.xml/", "Tech"),
        ("http://loose.test/feed", None),
    ]
    assert (listing.without_feed, listing.not_http) == (1, 1)


def test_import_makes_a_feed_per_category_and_counts_what_it_skipped(
    site: HTTPServer, config_file: Path, tmp_path: Path
) -> None:
    opml = tmp_path / "freshrss.opml"
    opml.write_text(FRESHRSS.replace("{url}", site.url_for("").rstrip("/")), encoding="utf-8")
    result = feedsvc(config_file, "import", str(opml))
    assert result.returncode == 0, result.stderr
    feeds = feeds_of(config_file)
    assert feeds["world-news"]["title"] == "World News"
    assert feeds["world-news"]["sources"] == [site.url_for("/feed.xml"), site.url_for("/atom.xml")]
    assert feeds["tech"]["sources"] == ["http://nested.test/rss"]
    assert feeds["imported"]["sources"] == ["http://loose.test/feed"]
    assert (
        "imported 4 source(s) into 3 feed(s); skipped 0 already followed, 1 duplicate(s), "
        "1 outline(s) without a feed URL, 1 non-http URL(s)"
    ) in result.stdout
    again = feedsvc(config_file, "import", str(opml))
    assert "imported 0 source(s)" in again.stdout
    assert "skipped 4 already followed" in again.stdout


def test_import_into_one_feed(site: HTTPServer, config_file: Path, tmp_path: Path) -> None:
    opml = tmp_path / "export.opml"
    opml.write_text(FRESHRSS.replace("{url}", "http://g.test"), encoding="utf-8")
    result = feedsvc(config_file, "import", str(opml), "--feed", "city")
    assert result.returncode == 0, result.stderr
    assert len(feeds_of(config_file)["city"]["sources"]) == 5  # "stories" and 4 imported


def test_a_broken_opml_file_is_one_line_and_changes_nothing(
    config_file: Path, tmp_path: Path
) -> None:
    opml = tmp_path / "broken.opml"
    opml.write_text("<opml><body><outline xmlUrl='http://a.test/'", encoding="utf-8")
    before = config_file.read_bytes()
    result = feedsvc(config_file, "import", str(opml))
    assert result.returncode == 2
    assert "not valid OPML" in result.stderr
    assert config_file.read_bytes() == before


def test_an_opml_file_declaring_entities_is_refused() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<opml version="2.0"><body><outline text="&b;" xmlUrl="http://a.test/feed"/></body></opml>"""
    with pytest.raises(UsageError, match="entities"):
        read_opml(data)


# -- feedsvc remove and sources ------------------------------------------------


def test_remove_takes_a_source_out_and_keeps_the_rest_of_the_file(
    site: HTTPServer, config_file: Path
) -> None:
    before = config_file.read_text(encoding="utf-8")
    assert feedsvc(config_file, "add", site.url_for("/feed.xml"), "--feed", "city").returncode == 0
    result = feedsvc(config_file, "remove", site.url_for("/feed.xml"))
    assert result.returncode == 0, result.stderr
    assert f"removed {site.url_for('/feed.xml')} from feed 'city'" in result.stdout
    assert feeds_of(config_file)["city"]["sources"] == ["stories"]
    assert "# Local stories first" in config_file.read_text(encoding="utf-8")
    assert tomllib.loads(config_file.read_text()) == tomllib.loads(before)


def test_removing_a_feeds_last_source_removes_the_feed(site: HTTPServer, config_file: Path) -> None:
    assert feedsvc(config_file, "add", site.url_for("/feed.xml"), "--feed", "gz").returncode == 0
    assert feedsvc(config_file, "remove", site.url_for("/feed.xml")).returncode == 0
    assert "gz" not in feeds_of(config_file)


def test_removing_what_is_not_followed_is_one_line_exit_2(config_file: Path) -> None:
    result = feedsvc(config_file, "remove", "http://nowhere.test/feed")
    assert result.returncode == 2
    assert "not followed" in result.stderr


def test_sources_lists_each_source_with_its_state(site: HTTPServer, config_file: Path) -> None:
    assert feedsvc(config_file, "add", site.url_for("/feed.xml"), "--feed", "gz").returncode == 0
    (config_file.parent / "stories" / "bridge.txt").write_text("Bridge closed\n\nIt is.\n")
    assert feedsvc(config_file, "poll").returncode == 0
    result = feedsvc(config_file, "sources")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:3] == ["feed", "source", "state"]
    by_feed = {row.split()[0]: row.split() for row in rows if not row.startswith(" ")}
    assert by_feed["gz"][1] == site.url_for("/feed.xml")
    assert by_feed["gz"][2] == "ok"
    assert by_feed["city"][2] == "ok"
    only = feedsvc(config_file, "sources", "--feed", "gz")
    assert "stories" not in only.stdout
