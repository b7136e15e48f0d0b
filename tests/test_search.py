"""Search over every version, current and removed text, on both backends:
the store's search(), /search, /api/search and `feedsvc search`."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from feedsvc.cli import main
from feedsvc.storage.search import SearchQueryError, parse_query
from tests.newsroom import Newsroom
from tests.stories import make_site, page, text_of

LEAD = "Engineers closed the Harbour Bridge on Tuesday after cracks were found in a steel beam."
FERRIES = "Ferries will run every ten minutes in both directions until further notice."
MAYOR = "The mayor said the bridge had passed its last inspection in March without any concern."
QUEUES = "Commuters queued for up to forty minutes at the ferry terminal on Thursday."


def publish(site: Newsroom, name: str, title: str, paragraphs: list[str]) -> None:
    """One revision of a story in the newsroom's folder, polled ten minutes on."""
    site.write(name.removesuffix(".txt"), title, *paragraphs)
    site.poll(600)


@pytest.fixture
def site(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    """bridge.txt: the mayor's sentence is in versions 1 and 2 and removed
    in version 3; the commuters' sentence arrives in version 2 and stays."""
    s = make_site(tmp_path, make_settings, store_for, clock, versions=0)
    publish(s, "bridge.txt", "Harbour bridge closed", [LEAD, MAYOR, FERRIES])
    publish(s, "bridge.txt", "Harbour bridge closed", [LEAD, MAYOR, FERRIES, QUEUES])
    publish(s, "bridge.txt", "Harbour bridge closed", [LEAD, FERRIES, QUEUES])
    publish(s, "tunnel.txt", "Tunnel reopens", ["The tunnel reopened on Friday after repairs."])
    return s


def test_removed_sentence_is_found_removed_in_3_and_last_seen_in_2(site: Newsroom) -> None:
    (hit,) = site.store.search('"passed its last inspection"')
    assert hit.article_id == site.article().id
    assert not hit.current
    assert (hit.last_seen, hit.removed_in, hit.latest) == (2, 3, 3)
    assert "passed its last inspection" in hit.snippet


def test_current_text_is_reported_current_in_the_latest_version(site: Newsroom) -> None:
    (hit,) = site.store.search('"ferry terminal"')
    assert hit.current
    assert (hit.last_seen, hit.removed_in) == (3, None)


def test_phrase_must_match_in_order(site: Newsroom) -> None:
    assert site.store.search('"inspection last its passed"') == []
    assert len(site.store.search("inspection last its passed")) == 1  # words, any order


def test_prefix_query(site: Newsroom) -> None:
    (hit,) = site.store.search("inspect*")
    assert hit.last_seen == 2
    assert [h.title for h in site.store.search("reopen*")] == ["Tunnel reopens"]
    assert site.store.search("reopen") == []


def test_all_terms_must_match(site: Newsroom) -> None:
    assert [h.title for h in site.store.search("tunnel friday")] == ["Tunnel reopens"]
    assert site.store.search("tunnel mayor") == []


def test_case_is_ignored_and_the_headline_is_searched(site: Newsroom) -> None:
    assert [h.title for h in site.store.search("HARBOUR")] == ["Harbour bridge closed"]
    assert [h.title for h in site.store.search('"tunnel reopens"')] == ["Tunnel reopens"]


def test_feed_filter(site: Newsroom) -> None:
    assert len(site.store.search("bridge", feed="city")) == 1
    assert site.store.search("bridge", feed="elsewhere") == []


def test_pages_follow_the_keyset_cursor(site: Newsroom) -> None:
    first = site.store.search("the", limit=1)
    assert [h.title for h in first] == ["Tunnel reopens"]  # most recently updated first
    after = (first[0].updated_at, first[0].article_id)
    second = site.store.search("the", limit=1, after=after)
    assert [h.title for h in second] == ["Harbour bridge closed"]
    assert (
        site.store.search("the", limit=1, after=(second[0].updated_at, second[0].article_id)) == []
    )


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced phrase',
        "NEAR(a b) OR c AND NOT d",
        "title:bridge",
        "a -b +c ^d",
        "' ; DROP TABLE versions; --",
        "x:* & !y | (z",
        "\\' \" \u201c \u00ab \x00",
        "*",
        "bridge*" * 10,
    ],
)
def test_hostile_queries_search_or_refuse_but_never_fail(site: Newsroom, q: str) -> None:
    try:
        site.store.search(q)
    except SearchQueryError as exc:
        assert str(exc)


def test_a_10000_character_query_is_refused() -> None:
    with pytest.raises(SearchQueryError, match="too long"):
        parse_query("bridge " * 1500)


def test_nothing_to_search_for_is_refused() -> None:
    for q in ("", "   ", '""', "*", "-- ;"):
        with pytest.raises(SearchQueryError, match="nothing to search for"):
            parse_query(q)


def test_query_grammar() -> None:
    query = parse_query('bridge "12 people" collap* ')
    assert [(t.words, t.prefix) for t in query.terms] == [
        (("bridge",), False),
        (("12", "people"), False),
        (("collap",), True),
    ]


# -- /api/search, /search and `feedsvc search` ----------------------------------


def test_api_search_reports_removed_text_with_its_links(site: Newsroom) -> None:
    response = site.client.get('/api/search?q="passed its last inspection"')
    assert response.status_code == 200
    (hit,) = response.get_json()["hits"]
    aid = site.article().id
    assert (hit["current"], hit["last_seen"], hit["removed_in"]) == (False, 2, 3)
    assert hit["links"]["version"] == f"http://feeds.test/articles/{aid}/versions/2"
    assert hit["links"]["removed"] == f"http://feeds.test/articles/{aid}/diff/2...3"
    assert (
        site.client.get(hit["links"]["removed"].removeprefix("http://feeds.test")).status_code
        == 200
    )


def test_api_search_pages_with_the_cursor(site: Newsroom) -> None:
    first = site.client.get("/api/search?q=the&limit=1").get_json()
    assert [h["title"] for h in first["hits"]] == ["Tunnel reopens"]
    second = site.client.get(first["next"].removeprefix("http://feeds.test")).get_json()
    assert [h["title"] for h in second["hits"]] == ["Harbour bridge closed"]
    assert second["next"] is None


def test_api_search_feed_filter_and_unknown_feed(site: Newsroom) -> None:
    assert site.client.get("/api/search?q=bridge&feed=city").get_json()["hits"]
    response = site.client.get("/api/search?q=bridge&feed=nowhere")
    assert response.status_code == 400
    assert "feed" in response.get_json()["error"]


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced',
        "NEAR(bridge tunnel)",
        "bridge OR tunnel AND NOT x",
        "title:bridge",
        "' OR 1=1 --",
        "x:* & !y | (z",
        "\u201e\u201c \u00ab\u00bb",
        "*",
        "",
        "b" * 10_000,
        "bridge " * 1_500,
    ],
)
def test_hostile_queries_answer_200_or_400_never_500(site: Newsroom, q: str) -> None:
    for path in ("/api/search", "/search"):
        response = site.client.get(path, query_string={"q": q})
        assert response.status_code in (200, 400), (path, q, response.status_code)
        if response.status_code == 400 and path == "/api/search":
            assert response.get_json()["error"].startswith("q: ")


def test_a_bad_cursor_is_400(site: Newsroom) -> None:
    assert site.client.get("/api/search?q=bridge&cursor=zzz").status_code == 400


def test_search_page_shows_current_and_removed_hits(site: Newsroom) -> None:
    doc = page(site, "/search?q=" + quote('"passed its last inspection"'))
    (hit,) = doc.cssselect("li.hit")
    assert "removed in version 3" in text_of(hit, ".badge")[0]
    hrefs = [a.get("href") for a in hit.cssselect("a")]
    aid = site.article().id
    assert f"http://feeds.test/articles/{aid}/versions/2" in hrefs
    assert f"http://feeds.test/articles/{aid}/diff/2...3" in hrefs
    doc = page(site, "/search?q=ferry")
    assert text_of(doc, "li.hit .badge") == ["in the current text"]


def test_search_page_without_a_query_is_the_form(site: Newsroom) -> None:
    doc = page(site, "/search")
    assert doc.cssselect("form.search input[name=q]")
    assert not doc.cssselect("li.hit")


def test_search_page_says_what_is_wrong_with_a_query(site: Newsroom) -> None:
    response = site.client.get("/search", query_string={"q": "x" * 600})
    assert response.status_code == 400
    assert "too long" in response.get_data(as_text=True)


def test_cli_search(site: Newsroom) -> None:
    assert site.settings.path is not None
    config = ["--config", str(site.settings.path)]
    result = CliRunner().invoke(main, ["search", '"passed its last inspection"', *config])
    assert result.exit_code == 0, result.output
    assert "removed in version 3, last seen in version 2" in result.output
    assert f"/articles/{site.article().id}/diff/2...3" in result.output
    result = CliRunner().invoke(main, ["search", "zeppelin", *config])
    assert result.exit_code == 1
    result = CliRunner().invoke(main, ["search", "*", *config])
    assert result.exit_code == 2
    assert "nothing to search for" in result.output and "Traceback" not in result.output


# -- the migration indexes what was stored before it -----------------------------


def test_migration_indexes_and_marks_versions_stored_before_it(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import text

    from feedsvc.storage import Store
    from feedsvc.storage.engine import MIGRATIONS, create_db_engine

    engine = create_db_engine(db_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        conn.execute(
            text(
                "INSERT INTO sources (id, feed, locator, url, active, gone, next_poll_at, failures)"
                " VALUES (1, 'city', 'stories', 'stories', true, false, '2026-03-01 09:00', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO articles (id, feed, source_id, key, first_seen_at, updated_at,"
                " last_seen_at, latest_version, developing, status, unchanged_checks,"
                " check_failures) VALUES ('00000000000000aa', 'city', 1, 'k', '2026-03-01 09:00',"
                " '2026-03-01 10:00', '2026-03-01 10:00', 2, false, 'active', 0, 0)"
            )
        )
        for number, body in ((1, f"{LEAD}\n\n{MAYOR}"), (2, LEAD.replace("Tuesday", "Monday"))):
            conn.execute(
                text(
                    "INSERT INTO versions (article_id, number, seen_at, title, text, html, sha256,"
                    " words, words_added, words_removed, change_class, developing, suspect)"
                    " VALUES ('00000000000000aa', :n, '2026-03-01 09:00', 'Bridge', :body, '',"
                    " :sha, 20, 2, 15, :cls, false, false)"
                ),
                {"n": number, "body": body, "sha": f"{number:064x}", "cls": "edit"},
            )
    engine.dispose()
    store = Store(db_url)  # migrates to the head
    try:
        (hit,) = store.search('"passed its last inspection"')
        assert (hit.last_seen, hit.removed_in) == (1, 2)
        assert [v.stealth for v in store.get_versions("00000000000000aa")] == [False, True]
    finally:
        store.close()
