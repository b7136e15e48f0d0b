"""Number, quote and name changes, and stealth edits (feedsvc.changes)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedsvc.changes import (
    Changes,
    NumberChange,
    QuoteChange,
    find_changes,
    is_stealth,
    names_of,
    quote_changes,
    quotes_of,
    substantive_words,
)
from feedsvc.revisions import classify
from feedsvc.textdiff import diff_texts
from tests.stories import make_site

TITLE = "Bridge collapse in Riverton"
BEFORE = (
    "Twelve hours after the collapse, rescuers were still searching the river.\n\n"
    "Police said 12 people were killed when the Old Mill Bridge gave way on Monday.\n\n"
    "More details to follow."
)


def stealth_of(old: str, new: str, *, old_title: str = TITLE, new_title: str = TITLE) -> bool:
    d = diff_texts(old_title, old, new_title, new)
    cls = classify(old_title, old, new_title, new)
    return is_stealth(cls, old, new, d, find_changes(old_title, old, new_title, new, d))


def test_number_changed_without_notice_is_stealth_and_recorded() -> None:
    after = BEFORE.replace("12 people", "15 people")
    changes = find_changes(TITLE, BEFORE, TITLE, after)
    assert changes.numbers == (NumberChange("12", "15", "people were killed"),)
    assert classify(TITLE, BEFORE, TITLE, after) == "edit"
    assert stealth_of(BEFORE, after)
    assert changes.lines() == ["Numbers: 12 -> 15 (people were killed)"]


def test_same_edit_with_a_correction_notice_is_correction_not_stealth() -> None:
    after = (
        BEFORE.replace("12 people", "15 people")
        + "\n\nCorrection: an earlier version said 12 people were killed."
    )
    assert classify(TITLE, BEFORE, TITLE, after) == "correction"
    assert not stealth_of(BEFORE, after)
    assert find_changes(TITLE, BEFORE, TITLE, after).numbers[0].new == "15"


def test_same_edit_with_an_update_notice_is_not_stealth() -> None:
    after = BEFORE.replace("12 people", "15 people") + "\n\nUpdate: the death toll has risen."
    assert not stealth_of(BEFORE, after)


def test_update_notice_with_a_new_time_tells_readers() -> None:
    old = "Updated 10:15 GMT\n\n" + BEFORE
    new = "Updated 11:30 GMT\n\n" + BEFORE.replace("12 people", "15 people")
    assert not stealth_of(old, new)


def test_an_old_notice_does_not_cover_a_later_silent_edit() -> None:
    old = BEFORE + "\n\nCorrection: the bridge is in Riverton, not Millbrook."
    new = old.replace("12 people", "15 people")
    assert stealth_of(old, new)


def test_append_to_a_developing_story_is_neither_stealth_nor_correction() -> None:
    after = BEFORE.replace(
        "More details to follow.",
        "Divers recovered two cars from the water on Tuesday.\n\n"
        "The council said the bridge had been inspected in March.",
    )
    cls = classify(TITLE, BEFORE, TITLE, after)
    assert cls == "append"
    assert not stealth_of(BEFORE, after)


def test_live_blog_post_added_on_top_is_not_substance() -> None:
    old = "10:02 The minister arrived at the scene.\n\n09:40 Roads around the bridge are closed."
    new = "10:31 Rescue teams paused the search as the river rose sharply overnight.\n\n" + old
    d = diff_texts("Live", old, "Live", new)
    assert substantive_words(d) == 0
    assert not stealth_of(old, new, old_title="Live", new_title="Live")


def test_silent_headline_change_is_stealth() -> None:
    assert stealth_of(BEFORE, BEFORE, new_title="Bridge collapse: council ignored warnings")


def test_small_wording_fix_is_not_stealth() -> None:
    assert not stealth_of(BEFORE, BEFORE.replace("gave way", "collapsed"))


def test_many_words_rewritten_are_stealth() -> None:
    after = BEFORE.replace(
        "rescuers were still searching the river",
        "the council admitted it had been warned about cracks in the bridge last year",
    )
    assert stealth_of(BEFORE, after)


def test_page_modified_date_that_moved_is_telling() -> None:
    after = BEFORE.replace("12 people", "15 people")
    d = diff_texts(TITLE, BEFORE, TITLE, after)
    changes = find_changes(TITLE, BEFORE, TITLE, after, d)
    monday, tuesday = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
    kwargs = {"old_page_date": monday}
    assert not is_stealth("edit", BEFORE, after, d, changes, **kwargs, new_page_date=tuesday)
    assert is_stealth("edit", BEFORE, after, d, changes, **kwargs, new_page_date=monday)
    assert is_stealth("edit", BEFORE, after, d, changes, **kwargs, new_page_date=None)


def test_number_context_before_when_the_number_ends_the_sentence() -> None:
    old = "The death toll in the province rose to 12.\n\nRoads stay closed."
    new = "The death toll in the province rose to 15.\n\nRoads stay closed."
    (n,) = find_changes("t", old, "t", new).numbers
    assert (n.old, n.new, n.context) == ("12", "15", "province rose to")


def test_numbers_as_written_same_value_is_no_change() -> None:
    old = "The fund holds 1,200 dollars."
    new = "The fund holds 1200 dollars."
    assert find_changes("t", old, "t", new).numbers == ()


def test_several_numbers_in_one_sentence_and_in_the_headline() -> None:
    old = "Officials said 12 people died and 40 were hurt, with 3% of homes without power."
    new = "Officials said 15 people died and 40 were hurt, with 5.5% of homes without power."
    changes = find_changes("12 dead in storm", old, "15 dead in storm", new)
    assert [(n.old, n.new) for n in changes.numbers] == [("12", "15"), ("12", "15"), ("3%", "5.5%")]
    assert changes.numbers[0].context == "dead in storm"


def test_a_number_removed_with_its_sentence_is_not_in_place() -> None:
    old = "Police said 12 people were killed.\n\nThe bridge was built in 1931."
    new = "Police said 12 people were killed."
    assert find_changes("t", old, "t", new).numbers == ()


def test_english_straight_and_curly_quotes() -> None:
    old = (
        'The mayor said: "We will rebuild the bridge." '
        "The minister called it \u201ca tragedy for the whole region\u201d."
    )
    new = (
        'The mayor said: "We will rebuild the bridge within a year." '
        "The chief engineer said \u201cthe cracks were reported in 2024\u201d."
    )
    assert quote_changes(old, new) == (
        QuoteChange(
            "altered", "We will rebuild the bridge.", "We will rebuild the bridge within a year."
        ),
        QuoteChange("removed", "a tragedy for the whole region", None),
        QuoteChange("added", None, "the cracks were reported in 2024"),
    )


def test_german_quotes() -> None:
    old = "Der Bürgermeister sagte: \u201eWir bauen die Brücke wieder auf.\u201c"
    new = "Der Bürgermeister sagte: \u201eWir bauen die Brücke nicht wieder auf.\u201c"
    assert quote_changes(old, new) == (
        QuoteChange(
            "altered", "Wir bauen die Brücke wieder auf.", "Wir bauen die Brücke nicht wieder auf."
        ),
    )
    assert quotes_of("Sie nannte es \u00bbeine Katastrophe\u00ab.") == ["eine Katastrophe"]


def test_french_quotes_with_narrow_spaces() -> None:
    old = "Le maire a déclaré\u202f: \u00ab\u202fNous reconstruirons le pont.\u202f\u00bb"
    new = "Le maire a déclaré\u202f: \u00ab\u202fNous ne reconstruirons pas le pont.\u202f\u00bb"
    (change,) = quote_changes(old, new)
    assert change == QuoteChange(
        "altered", "Nous reconstruirons le pont.", "Nous ne reconstruirons pas le pont."
    )


def test_a_changed_quote_alone_makes_a_stealth_edit() -> None:
    old = BEFORE + '\n\nThe mayor said: "The bridge was safe."'
    new = BEFORE + '\n\nThe mayor said: "The bridge was not safe."'
    assert stealth_of(old, new)


def test_names_that_appear_and_disappear() -> None:
    old = "Police Chief Anna Berg said the Old Mill Bridge was closed. The driver was unhurt."
    new = "Mayor Tom Kline said the Old Mill Bridge was closed. Anna Berg declined to comment."
    changes = find_changes("t", old, "t", new)
    assert changes.names_added == ("Mayor Tom Kline", "Anna Berg")
    assert changes.names_removed == ("Police Chief Anna Berg",)


def test_sentence_openers_are_not_names() -> None:
    text = "The bridge fell. Police said Jane Doe was safe. But nobody knew."
    assert names_of(text) == ["Jane Doe"]


def test_no_changes_reads_false_and_has_no_lines() -> None:
    assert not Changes()
    assert Changes().lines() == []
    assert find_changes("t", BEFORE, "t", BEFORE.replace("gave way", "collapsed")).to_dict() == {
        "numbers": [],
        "quotes": [],
        "names_added": [],
        "names_removed": [],
    }


def test_hostile_text_is_linear() -> None:
    nasty = [
        '"' + "a" * 200_000,
        "\u201e" * 100_000,
        "\u00ab " * 100_000,
        "Capital " * 50_000,
        "1," * 100_000,
        "\n" * 100_000 + "Update",
    ]
    start = time.perf_counter()
    for text in nasty:
        find_changes("t", text, "t", text + " x")
        is_stealth("edit", text, text + " x", diff_texts("t", text, "t", text + " x"), Changes())
    assert time.perf_counter() - start < 10


# -- stored with the version, through a real poll ------------------------------


def test_poll_stores_stealth_with_the_version(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    site = make_site(tmp_path, make_settings, store_for, clock, versions=0)
    paragraphs = BEFORE.split("\n\n")
    corrected = [p.replace("12 people", "16 people") for p in paragraphs]
    appended = [*corrected[:2], "Divers found two cars in the river on Tuesday."]
    site.publish(
        "bridge",
        [
            (TITLE, paragraphs),
            (TITLE, [p.replace("12 people", "15 people") for p in paragraphs]),
            (TITLE, [*corrected, "Correction: an earlier version said 15."]),
            (TITLE, [*appended, "Correction: an earlier version said 15."]),
        ],
    )
    history = site.store.get_versions(site.article().id)
    assert [(v.change_class, v.stealth) for v in history] == [
        ("initial", False),
        ("edit", True),
        ("correction", False),
        ("append", False),
    ]
