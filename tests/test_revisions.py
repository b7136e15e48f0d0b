"""What counts as a revision: the pure rules, then the same rules through a
real poll of a local file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from feedsvc.models import LatestVersion
from feedsvc.pool import poll_sources
from feedsvc.revisions import content_hash, decide, developing_markers, is_developing, normalise
from feedsvc.update import Updater

STORY = """Harbour bridge closed after cracks found

Engineers closed the Harbour Bridge early on Tuesday.

Ferries will run every ten minutes.

More details to follow.
"""


def latest(title: str, text: str, number: int = 1) -> LatestVersion:
    from datetime import UTC, datetime

    return LatestVersion(number, title, text, content_hash(title, text), datetime.now(UTC))


def test_normalise_collapses_whitespace_and_keeps_paragraphs() -> None:
    messy = "  One   line\twith  spaces \r\n\r\n\n\nSecond\u00a0paragraph\n  continues here  \n"
    assert normalise(messy) == "One line with spaces\n\nSecond paragraph continues here"


def test_normalise_is_unicode_nfc() -> None:
    assert normalise("Cafe\u0301 opens") == normalise("Caf\u00e9 opens")


def test_normalise_drops_lines_matching_ignore_patterns() -> None:
    text = "Body stays.\n\n42 comments\n\nMore body."
    assert normalise(text, [re.compile(r"^\d+ comments$")]) == "Body stays.\n\nMore body."


def test_whitespace_only_change_is_not_a_revision() -> None:
    old = latest("Title", normalise("A b c.\n\nD e f."))
    assert not decide(old, {}, "Title", normalise("A  b\tc.\n\n\n\nD e f.  ")).changed


def test_title_only_change_is_a_headline_revision() -> None:
    old = latest("Bridge closed", "Same text.")
    decision = decide(old, {}, "Bridge closed for a month", "Same text.")
    assert decision.changed
    assert decision.change_class == "headline"
    assert (decision.words_added, decision.words_removed) == (0, 0)


def test_return_to_an_earlier_text_is_marked_as_a_revert() -> None:
    a_hash = content_hash("T", "Version A.")
    old = latest("T", "Version B.", number=2)
    decision = decide(old, {a_hash: 1, old.sha256: 2}, "T", "Version A.")
    assert decision.changed
    assert decision.change_class == "revert"
    assert decision.revert_of == 1


def test_developing_markers_ignore_case_and_punctuation() -> None:
    markers = developing_markers()
    assert is_developing("Text.\n\nMORE DETAILS TO FOLLOW...", markers)
    assert is_developing("This is a developing story; check back for updates!", markers)
    assert not is_developing("Details of the plan were published in full.", markers)


def test_configured_marker_extends_the_builtin_list() -> None:
    assert is_developing("Wir berichten weiter.", developing_markers(["wir berichten weiter"]))


# -- through a poll ---------------------------------------------------------


def poll_story(
    tmp_path: Path,
    make_settings: Any,
    store_for: Any,
    clock: Any,
    texts: list[str],
    ignore: list[str] | None = None,
) -> list[Any]:
    story = tmp_path / "news" / "bridge.txt"
    story.parent.mkdir(exist_ok=True)
    settings = make_settings(
        [{"name": "local", "sources": [str(story.parent)], "ignore": ignore or []}]
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    for text in texts:
        story.write_text(text, encoding="utf-8")
        poll_sources(updater, "test", due_only=False)
        clock.advance(60)
    article = store.find_article("news/bridge.txt")
    return store.get_versions(article.id)


def test_polls_of_whitespace_changes_make_one_version(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    spaced = STORY.replace("Engineers closed", "Engineers   closed").replace("\n\n", "\n\n\n")
    versions = poll_story(tmp_path, make_settings, store_for, clock, [STORY, spaced])
    assert [v.number for v in versions] == [1]


def test_polls_of_ignored_line_changes_make_one_version(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    texts = [STORY + "\n12 comments\n", STORY + "\n13 comments\n"]
    versions = poll_story(
        tmp_path, make_settings, store_for, clock, texts, ignore=[r"^\d+ comments?$"]
    )
    assert [v.number for v in versions] == [1]


def test_poll_of_a_title_change_makes_a_version(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    retitled = STORY.replace("Harbour bridge closed", "Harbour bridge shut", 1)
    versions = poll_story(tmp_path, make_settings, store_for, clock, [STORY, retitled])
    assert [(v.number, v.change_class) for v in versions] == [(1, "initial"), (2, "headline")]
    assert versions[1].title == "Harbour bridge shut after cracks found"


def test_polls_of_a_revert_store_it_marked(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    edited = STORY.replace("every ten minutes", "every twenty minutes")
    versions = poll_story(tmp_path, make_settings, store_for, clock, [STORY, edited, STORY])
    assert [v.number for v in versions] == [1, 2, 3]
    assert versions[2].change_class == "revert"
    assert versions[2].revert_of == 1
    assert versions[2].sha256 == versions[0].sha256
