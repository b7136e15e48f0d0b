"""Local paths as sources: a folder of files, one article a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feedsvc import config
from feedsvc.pool import poll_sources
from feedsvc.revisions import normalise
from feedsvc.update import Updater


def setup_folder(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> tuple:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "bridge.txt").write_text(
        "Bridge closed\n\nThe bridge is closed.\n\nMore details to follow.\n", encoding="utf-8"
    )
    (folder / "flood.md").write_text("# Flood warning\n\nRiver levels are rising.\n")
    (folder / "notes.json").write_text('{"not": "an article"}')
    (folder / ".hidden.txt").write_text("Editor's scratch file\n\nnot published")
    settings = make_settings([{"name": "local", "sources": ["stories"]}])
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    return folder, store, Updater(settings, store, clock=clock)


def test_each_article_file_in_a_folder_is_an_article(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    _, store, updater = setup_folder(tmp_path, make_settings, store_for, clock)
    [outcome] = poll_sources(updater, "test", due_only=False)
    assert (outcome.new_articles, outcome.new_versions, outcome.error) == (2, 2, None)
    bridge = store.find_article("stories/bridge.txt")
    flood = store.find_article("stories/flood.md")
    assert store.get_version(bridge.id, 1).title == "Bridge closed"
    assert (
        store.get_version(bridge.id, 1).text == "The bridge is closed.\n\nMore details to follow."
    )
    assert store.get_version(flood.id, 1).title == "Flood warning"
    assert bridge.developing


def test_editing_a_file_makes_a_version(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    folder, store, updater = setup_folder(tmp_path, make_settings, store_for, clock)
    poll_sources(updater, "test", due_only=False)
    (folder / "bridge.txt").write_text(
        "Bridge closed\n\nThe bridge is closed.\n\nIt will reopen in May.\n", encoding="utf-8"
    )
    clock.advance(30)
    [outcome] = poll_sources(updater, "test", due_only=False)
    assert (outcome.new_articles, outcome.new_versions) == (0, 1)
    bridge = store.find_article("stories/bridge.txt")
    assert bridge.latest_version == 2
    assert not bridge.developing
    assert store.get_version(bridge.id, 2).text.endswith("It will reopen in May.")


def test_deleting_a_file_makes_no_version_and_keeps_its_history(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    folder, store, updater = setup_folder(tmp_path, make_settings, store_for, clock)
    poll_sources(updater, "test", due_only=False)
    (folder / "bridge.txt").unlink()
    clock.advance(30)
    [outcome] = poll_sources(updater, "test", due_only=False)
    assert (outcome.new_articles, outcome.new_versions, outcome.error) == (0, 0, None)
    bridge = store.find_article("stories/bridge.txt")
    assert [v.number for v in store.get_versions(bridge.id)] == [1]


def test_a_single_file_is_a_source(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    story = tmp_path / "one.html"
    story.write_text(
        "<html><head><title>Council votes on budget</title></head><body><article>"
        "<p>The council approved the budget by seven votes to four on Monday night.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    settings = make_settings([{"name": "one", "sources": [str(story)]}])
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    [outcome] = poll_sources(Updater(settings, store, clock=clock), "test", due_only=False)
    assert outcome.new_versions == 1
    version = store.get_version(store.find_article("one.html").id, 1)
    assert version.title == "Council votes on budget"
    assert "seven votes to four" in version.text


def test_article_ids_survive_moving_the_whole_setup(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any, db_url: str
) -> None:
    _, store, updater = setup_folder(tmp_path, make_settings, store_for, clock)
    poll_sources(updater, "test", due_only=False)
    before = store.find_article("stories/bridge.txt").id
    store.close()

    moved = tmp_path.parent / (tmp_path.name + "-moved")
    tmp_path.rename(moved)
    try:
        # The config, the stories and (on SQLite) the database move together.
        database = f"sqlite:///{moved}/feedsvc.db" if db_url.startswith("sqlite") else db_url
        settings = config.from_mapping(
            {
                "service": {"database": database},
                "feeds": [{"name": "local", "sources": ["stories"]}],
            },
            moved / "config.toml",
        )
        store = store_for(settings)
        store.sync_sources(settings.feeds, clock())
        [outcome] = poll_sources(Updater(settings, store, clock=clock), "test", due_only=False)
        assert (outcome.new_articles, outcome.new_versions) == (0, 0)
        assert store.find_article("stories/bridge.txt").id == before
    finally:
        moved.rename(tmp_path)


PAGES = Path(__file__).parent / "data" / "pages"


@pytest.mark.parametrize("template", ["wordpress", "newspaper", "ghost"])
def test_a_local_html_page_is_read_like_an_article_page(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any, template: str
) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "page.html").write_bytes((PAGES / template / "v1.html").read_bytes())
    settings = make_settings([{"name": "saved", "sources": ["saved"]}])
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    poll_sources(Updater(settings, store, clock=clock), "test", due_only=False)

    version = store.get_version(store.find_article("saved/page.html").id, 1)
    title, _, body = (PAGES / template / "v1.expected.txt").read_text("utf-8").partition("\n")
    assert version.title == title
    assert version.text == normalise(body)
