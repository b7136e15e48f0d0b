"""The word-level edit script behind revision diffs in feeds and the API."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from feedsvc.render import diff_html
from feedsvc.wordops import WordOp, apply_ops, word_ops

words = st.sampled_from(["the", "bridge", "closed", "ferries", "<b>", "&", "more", "details"])
texts = st.lists(
    st.lists(words, min_size=1, max_size=12).map(" ".join), min_size=0, max_size=5
).map("\n\n".join)


@given(texts, texts)
def test_operations_rebuild_both_texts(old: str, new: str) -> None:
    ops = word_ops(old, new)
    assert apply_ops(ops, "old") == old
    assert apply_ops(ops, "new") == new


@given(st.text(), st.text())
def test_operations_rebuild_any_text_exactly(old: str, new: str) -> None:
    ops = word_ops(old, new)
    assert (apply_ops(ops, "old"), apply_ops(ops, "new")) == (old, new)


def test_a_replaced_word_is_a_delete_then_an_insert() -> None:
    assert word_ops("ferries every ten minutes", "ferries every fifteen minutes") == [
        WordOp("equal", "ferries every"),
        WordOp("delete", " ten"),
        WordOp("insert", " fifteen"),
        WordOp("equal", " minutes"),
    ]


def test_frequent_words_are_not_junk() -> None:
    # With difflib's autojunk, "the" (over 1% of 200+ words) would be ignored
    # and this one-word change would come out as a rewrite of the text.
    old = " ".join(["the bridge"] * 150)
    new = old.replace("bridge", "span", 1)
    assert [o.op for o in word_ops(old, new)] == ["equal", "delete", "insert", "equal"]


def test_html_diff_escapes_every_word() -> None:
    out = diff_html("a <b>", "a <script>alert(1)</script> & b")
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;" in out and "&amp;" in out


def test_html_diff_of_identical_texts_is_empty() -> None:
    assert diff_html("one\n\ntwo", "one\n\ntwo") == ""
