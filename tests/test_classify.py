"""Revision classes: what people filter on (append, edit, headline,
correction, deletion, revert)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from feedsvc.models import LatestVersion
from feedsvc.revisions import classify, content_hash, decide, developing_markers, normalise

DATA = Path(__file__).parent / "data" / "story"


def story(name: str) -> str:
    return normalise((DATA / name).read_text(encoding="utf-8"))


BASE = "Police closed the bridge on Monday.\n\nTraffic was diverted through the tunnel."


def test_seed_story_marker_replaced_by_paragraphs_is_append() -> None:
    assert classify("t", story("v1.txt"), "t", story("v2.txt")) == "append"


def test_marker_kept_at_the_end_below_new_paragraphs_is_append() -> None:
    old = f"{BASE}\n\nMore details to follow."
    new = f"{BASE}\n\nThe bridge reopens on Friday.\n\nMore details to follow."
    assert classify("t", old, "t", new) == "append"


def test_marker_inside_the_last_paragraph_replaced_by_details_is_append() -> None:
    old = f"{BASE} This is a developing story."
    new = f"{BASE} Engineers found a crack in a support beam."
    assert classify("t", old, "t", new) == "append"


def test_configured_marker_counts_too() -> None:
    old = f"{BASE}\n\nWatch this space!"
    new = f"{BASE}\n\nThe bridge reopens on Friday."
    assert classify("t", old, "t", new) == "edit"
    markers = developing_markers(["Watch this space"])
    assert classify("t", old, "t", new, markers=markers) == "append"


def test_text_added_at_the_end_is_append() -> None:
    assert classify("t", BASE, "t", f"{BASE}\n\nIt reopens on Friday.") == "append"


def test_paragraph_inserted_in_the_middle_is_edit() -> None:
    old, new = BASE.split("\n\n"), BASE.split("\n\n")
    new.insert(1, "A lorry had hit the railings.")
    assert classify("t", "\n\n".join(old), "t", "\n\n".join(new)) == "edit"


def test_words_changed_in_the_middle_is_edit() -> None:
    new = BASE.replace("Monday", "Tuesday")
    assert classify("t", BASE, "t", new) == "edit"


def test_details_added_but_earlier_text_changed_is_edit() -> None:
    old = f"{BASE}\n\nMore details to follow."
    new = f"{BASE.replace('Monday', 'Tuesday')}\n\nThe bridge reopens on Friday."
    assert classify("t", old, "t", new) == "edit"


def test_only_the_title_changed_is_headline() -> None:
    assert classify("Bridge closed", BASE, "Bridge closed after crash", BASE) == "headline"


def test_correction_notice_appearing_is_correction() -> None:
    new = (
        f"{BASE}\n\nCorrection: an earlier version of this story said the bridge closed on Sunday."
    )
    assert classify("t", BASE, "t", new) == "correction"


def test_clarification_notice_is_correction() -> None:
    new = f"Clarification: the tunnel is a toll road.\n\n{BASE}"
    assert classify("t", BASE, "t", new) == "correction"


def test_text_removed_without_replacement_is_deletion() -> None:
    assert classify("t", BASE, "t", "Police closed the bridge on Monday.") == "deletion"


def test_marker_removed_with_nothing_added_is_deletion() -> None:
    assert classify("t", f"{BASE}\n\nMore details to follow.", "t", BASE) == "deletion"


def test_known_hash_is_revert() -> None:
    assert classify("t", BASE, "t", "Anything.", revert_of=1) == "revert"


def _latest(title: str, text: str) -> LatestVersion:
    return LatestVersion(
        2, title, text, content_hash(title, text), datetime(2026, 3, 1, tzinfo=UTC)
    )


def test_decide_counts_words_with_the_diff_engine() -> None:
    old, new = story("v1.txt"), story("v2.txt")
    decision = decide(_latest("t", old), {}, "t", new)
    assert decision.changed
    assert decision.change_class == "append"
    assert decision.words_removed == 4  # "More details to follow."
    assert decision.words_added == len(new.split()) - len(old.split()) + 4


def test_decide_sees_a_revert_by_hash() -> None:
    first = content_hash("t", BASE)
    decision = decide(_latest("t", f"{BASE}\n\nMore."), {first: 1}, "t", BASE)
    assert (decision.change_class, decision.revert_of) == ("revert", 1)


def test_decide_unchanged_is_not_a_revision() -> None:
    assert not decide(_latest("t", BASE), {}, "t", BASE).changed
