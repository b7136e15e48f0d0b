"""Evidence and what is done with it: `feedsvc reextract` re-reads stored raw
responses without duplicating versions, and `feedsvc history` shows a
story's developing state and the events of its page."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from feedsvc import config
from feedsvc.cli import main
from feedsvc.errors import ConfigError
from feedsvc.pool import poll_sources
from feedsvc.storage import Store
from feedsvc.update import Updater

DATA = Path(__file__).parent / "data"


def run(settings: Any, *args: str) -> Any:
    return CliRunner().invoke(main, [*args, "--config", str(settings.path)])


def test_reextract_makes_no_version_where_the_text_is_unchanged(
    httpserver: HTTPServer, tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    httpserver.expect_request("/eastgate").respond_with_data(
        (DATA / "pages" / "ghost" / "v1.html").read_bytes(), content_type="text/html"
    )
    folder = tmp_path / "stories"
    folder.mkdir()
    shutil.copy(DATA / "local" / "panjshir.txt", folder / "panjshir.txt")
    settings = make_settings(
        [
            {"name": "pages", "sources": [httpserver.url_for("/eastgate")]},
            {"name": "files", "sources": [str(folder)]},
        ]
    )
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    poll_sources(Updater(settings, store, clock=clock), "w", due_only=False)

    result = run(settings, "reextract")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "re-extracted 2 articles: 0 new versions"
    for feed in ("pages", "files"):
        [entry] = store.list_feed_entries(feed, 10)
        assert len(entry.history) == 1


def test_reextract_applies_new_rules_to_the_stored_raw_once(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    story = folder / "panjshir.txt"
    shutil.copy(DATA / "local" / "panjshir.txt", story)
    settings = make_settings([{"name": "files", "sources": [str(folder)]}])
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    poll_sources(Updater(settings, store, clock=clock), "w", due_only=False)
    story.write_text("The file is gone from disk; the raw copy stays.\n")  # evidence is the DB's

    # A rule added later: the Massoud background paragraph is ignored now.
    text = settings.path.read_text().replace(
        'name = "files"', 'name = "files"\nignore = ["^Ahmad Shah Massoud was"]'
    )
    settings.path.write_text(text)
    assert run(settings, "reextract", "--feed", "files").output.strip() == (
        "re-extracted 1 articles: 1 new versions"
    )
    assert run(settings, "reextract").output.strip() == "re-extracted 1 articles: 0 new versions"

    [entry] = store.list_feed_entries("files", 10)
    assert [v.number for v in entry.history] == [1, 2]
    assert "Lion of Panjshir" not in entry.latest.text
    assert entry.latest.text.startswith("Today, Taliban forces attempted")
    assert entry.latest.raw_id == entry.history[0].raw_id  # the same evidence, re-read


def test_reextract_of_an_unknown_feed_is_one_line(make_settings: Any, tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    settings = make_settings([{"name": "files", "sources": [str(tmp_path / "s")]}])
    result = run(settings, "reextract", "--feed", "nope")
    assert result.exit_code == 2
    assert result.output.strip() == f"feedsvc: error: no feed named 'nope' in {settings.path}"


def test_history_shows_the_developing_state_and_the_page_events(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any
) -> None:
    html = (DATA / "pages" / "newspaper" / "v1.html").read_bytes()
    httpserver.expect_request("/harwick").respond_with_data(html, content_type="text/html")
    settings = make_settings(
        [{"name": "courier", "sources": [httpserver.url_for("/harwick")]}],
        scheduler={"developing_interval": "2m"},
    )
    store: Store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    poll_sources(updater, "w", due_only=False)

    out = run(settings, "history", httpserver.url_for("/harwick")).output
    lines = out.splitlines()
    assert lines[2] == "    developing story; page checked next at 2026-03-01 09:02:00 UTC"
    assert lines[4].split()[-1] == "initial"

    httpserver.clear()
    httpserver.expect_request("/harwick").respond_with_data("Gone", status=404)
    clock.advance(120)
    poll_sources(updater, "w")  # a page source's polls are its page's checks
    out = run(settings, "history", httpserver.url_for("/harwick")).output
    assert "page gone (404/410): no longer checked" in out
    assert out.splitlines()[-1].startswith("   -  2026-03-01 09:02:00  gone: ")
    assert "404" in out.splitlines()[-1]


def test_the_setting_min_words_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[fetch]\nmin_words = 0\n")
    with pytest.raises(ConfigError, match=r"fetch\.min_words: expected a whole number"):
        config.load(path)
