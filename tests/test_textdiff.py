"""The diff engine: operations that rebuild both texts, paragraphs aligned
before words, moves, headline changes, escaping, and its guard against
pathological input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc import diffformat
from feedsvc.diffformat import diff_html, side_by_side, unified
from feedsvc.revisions import normalise
from feedsvc.textdiff import diff_texts, word_changes

DATA = Path(__file__).parent / "data" / "story"
MARKER = "More details to follow."


def story(name: str) -> str:
    return normalise((DATA / name).read_text(encoding="utf-8"))


# Small vocabularies make repeated words, the case that trips naive diffs.
words = st.sampled_from(["the", "a", "Taliban", "valley", "said", "<b>", "&amp;", "“x”", "1"])
paragraph = st.lists(words, min_size=1, max_size=12).map(" ".join)
text = st.lists(paragraph, max_size=8).map("\n\n".join)


@given(text, text)
@settings(max_examples=300, deadline=None)
def test_applying_the_operations_to_the_old_text_gives_the_new_text(old: str, new: str) -> None:
    d = diff_texts("t", old, "t", new)
    assert d.apply(old) == new


@given(text, text)
@settings(max_examples=200, deadline=None)
def test_both_sides_of_the_operations_are_the_two_texts(old: str, new: str) -> None:
    d = diff_texts("t", old, "t", new)
    assert d.new_text() == new
    assert d.old_text() == old


def test_operations_do_not_apply_to_another_text() -> None:
    d = diff_texts("t", "One two three.\n\nFour.", "t", "One two three.\n\nFive.")
    with pytest.raises(ValueError):
        d.apply("One two three.\n\nSix.")
    with pytest.raises(ValueError):
        d.apply("One two three.")


@given(st.text(), st.text())
@settings(max_examples=200, deadline=None)
def test_arbitrary_text_round_trips_once_normalised(old: str, new: str) -> None:
    old, new = normalise(old), normalise(new)
    d = diff_texts("", old, "", new)
    assert d.apply(old) == new
    assert (d.old_text(), d.new_text()) == (old, new)


@given(text, text)
@settings(max_examples=200, deadline=None)
def test_word_counts_are_the_words_in_the_marked_runs(old: str, new: str) -> None:
    d = diff_texts("", old, "", new)
    inserted = sum(
        len(op.new_text.split())
        for p in d.paragraphs
        for op in p.ops
        if op.kind in ("insert", "replace")
    )
    assert d.words_added == inserted
    assert len(new.split()) - len(old.split()) == d.words_added - d.words_removed


def test_identical_texts_have_no_changes() -> None:
    d = diff_texts("Title", story("v1.txt"), "Title", story("v1.txt"))
    assert not d.changed
    assert (d.words_added, d.words_removed) == (0, 0)
    assert {p.kind for p in d.paragraphs} == {"equal"}


def test_seed_story_marker_deleted_and_new_paragraphs_inserted() -> None:
    d = diff_texts("t", story("v1.txt"), "t", story("v2.txt"))
    changed = [p for p in d.paragraphs if p.kind != "equal"]
    assert [p.kind for p in changed] == ["delete", "insert", "insert", "insert"]
    assert changed[0].old_text == MARKER
    assert changed[1].new_text.startswith("The National Resistance Front said on Wednesday")
    assert changed[3].new_text.startswith("Talks between the two sides collapsed")
    assert d.words_removed == 4
    assert d.words_added == len(" ".join(p.new_text for p in changed[1:]).split())


def test_seed_story_html_marks_marker_deleted_and_details_inserted() -> None:
    rendered = diff_html(diff_texts("t", story("v1.txt"), "t", story("v2.txt")))
    assert f'<p class="diff-delete"><del>{MARKER}</del></p>' in rendered
    assert rendered.count('<p class="diff-insert"><ins>') == 3


def test_moved_paragraph_is_reported_as_moved() -> None:
    old = "Opening lines of the story.\n\nThe police said three people were hurt.\n\nWitnesses described a loud bang."
    new = "The police said three people were hurt.\n\nOpening lines of the story.\n\nWitnesses described a loud bang."
    d = diff_texts("t", old, "t", new)
    moved = [p for p in d.paragraphs if p.kind == "moved"]
    assert len(moved) == 1
    assert (moved[0].old_index, moved[0].new_index) == (1, 0)
    assert moved[0].new_text == "The police said three people were hurt."
    assert (d.words_added, d.words_removed) == (0, 0)
    assert "(moved from paragraph 2)" in diff_html(d)


def test_edited_paragraph_is_diffed_word_by_word() -> None:
    old = "Intro.\n\nThe fire started at 9pm on Tuesday in the kitchen.\n\nOutro."
    new = "Intro.\n\nThe fire started at 10pm on Tuesday in the kitchen.\n\nOutro."
    d = diff_texts("t", old, "t", new)
    (p,) = [p for p in d.paragraphs if p.kind != "equal"]
    assert p.kind == "change"
    assert (p.old_index, p.new_index) == (1, 1)
    assert [(op.kind, op.old_text, op.new_text) for op in p.ops if op.kind != "equal"] == [
        ("replace", "9pm", "10pm")
    ]
    assert (d.words_added, d.words_removed) == (1, 1)


def test_headline_change_is_reported_on_its_own() -> None:
    d = diff_texts(
        "Fire in city centre", "Same text.", "Fire in city centre: two hurt", "Same text."
    )
    assert d.title_changed
    assert [p.kind for p in d.paragraphs] == ["equal"]
    assert [(op.kind, op.new_text) for op in d.title_ops if op.kind != "equal"] == [
        ("replace", "centre: two hurt")
    ]
    assert (d.words_added, d.words_removed) == (0, 0)


def test_every_token_is_escaped_before_marking() -> None:
    old = "Say <b>hello</b> & goodbye."
    new = 'Say <script>alert("x")</script> & <img src=x onerror=alert(1)> goodbye.'
    d = diff_texts("<i>t</i>", old, "<i>u</i>", new)
    rendered = diff_html(d) + "".join(o + n for o, n in side_by_side(d)) + diffformat.title_html(d)
    assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in rendered
    assert re.sub(r"</?(p|ins|del|small)[^>]*>", "", rendered).count("<") == 0


def test_inline_style_variant_carries_its_own_colours() -> None:
    d = diff_texts("t", "One two three.", "t", "One four three.")
    rendered = diff_html(d, inline_style=True)
    assert f'<del style="{diffformat.DEL_STYLE}">two</del>' in rendered
    assert f'<ins style="{diffformat.INS_STYLE}">four</ins>' in rendered


def test_side_by_side_puts_old_words_left_and_new_words_right() -> None:
    d = diff_texts("t", "Keep.\n\nOne two three.\n\nGone.", "t", "Keep.\n\nOne four three.")
    rows = side_by_side(d)
    assert rows[1] == (
        '<p class="diff-change">One <del>two</del> three.</p>',
        '<p class="diff-change">One <ins>four</ins> three.</p>',
    )
    assert rows[2] == ('<p class="diff-delete"><del>Gone.</del></p>', "")


def test_unified_diff_has_one_line_per_paragraph() -> None:
    out = unified("T", "A.\n\nB.", "T", "A.\n\nC.", "version 1", "version 2")
    assert out.splitlines() == [
        "--- version 1",
        "+++ version 2",
        "@@ -1,3 +1,3 @@",
        " T",
        " A.",
        "-B.",
        "+C.",
    ]


def test_word_changes_counts_added_and_removed_words() -> None:
    assert word_changes("a b c", "a x c d") == (2, 1)


def test_pathological_block_falls_back_to_one_replacement() -> None:
    # Thousands of one repeated word against another pattern: millions of
    # equal pairs for SequenceMatcher. The guard replaces it whole, and the
    # operations still rebuild both texts.
    old = " ".join(["the"] * 3000 + ["end."])
    new = " ".join(["the", "cat"] * 1500 + ["end."])
    d = diff_texts("t", old, "t", new)
    (p,) = d.paragraphs
    assert [op.kind for op in p.ops] == ["equal", "replace", "equal"]
    assert d.apply(old) == new


def test_long_paragraph_is_aligned_by_sentence_then_diffed_by_word() -> None:
    # A page scraped without paragraph breaks: 4,000 words in one paragraph
    # is past the word-by-word budget, yet three changed words stay three.
    sentences = [f"Sentence {k} says the council met on day {k % 7}." for k in range(400)]
    old = " ".join(sentences)
    changed = list(sentences)
    for k, word in ((40, "Monday"), (200, "Tuesday"), (390, "Friday")):
        changed[k] = changed[k].replace("council", word)
    new = " ".join(changed)
    d = diff_texts("t", old, "t", new)
    (p,) = d.paragraphs
    assert [(op.kind, op.old_text, op.new_text) for op in p.ops if op.kind != "equal"] == [
        ("replace", "council", "Monday"),
        ("replace", "council", "Tuesday"),
        ("replace", "council", "Friday"),
    ]
    assert d.apply(old) == new


def test_to_dict_is_plain_data_for_the_api() -> None:
    d = diff_texts("Old", "Three were hurt.", "New", "Four were hurt.")
    assert d.to_dict() == {
        "title": {
            "changed": True,
            "old": "Old",
            "new": "New",
            "ops": [{"kind": "replace", "old_text": "Old", "new_text": "New"}],
        },
        "words_added": 1,
        "words_removed": 1,
        "paragraphs": [
            {
                "kind": "change",
                "old_index": 0,
                "new_index": 0,
                "ops": [
                    {"kind": "replace", "old_text": "Three", "new_text": "Four"},
                    {"kind": "equal", "old_text": "were hurt.", "new_text": "were hurt."},
                ],
            }
        ],
    }
