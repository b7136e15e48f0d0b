"""What the pages and plain formats show for a five-version story: each
step's diff, moves, headline changes, side by side, unified text, errors.
(These read what test_pages.py shows renders on both backends, so they run on
SQLite only, to keep the suite fast.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.newsroom import CORRECTION, MARKER, P3, P4, VERSIONS, Newsroom
from tests.stories import make_site, page, pages_of, text_of


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/feedsvc.db"


@pytest.fixture
def story(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    return make_site(tmp_path, make_settings, store_for, clock, versions=5)


def test_article_page_shows_each_steps_diff_and_headline_change(story: Newsroom) -> None:
    doc = page(story, f"/articles/{story.article().id}")
    steps = {li.get("id"): li for li in doc.cssselect("ol.timeline > li")}
    v2 = steps["v2"]
    assert text_of(v2, "ins") == [P3]
    assert "+" + str(len(P3.split())) in v2.text_content()
    v3 = steps["v3"]
    assert text_of(v3, "p.headline ins") == ["for a month"]
    v4 = steps["v4"]
    assert text_of(v4, ".diff-moved") == [f"{P3} (moved from paragraph 3)"]
    assert text_of(v4, ".diff-delete del") == [MARKER]
    assert text_of(v4, ".diff-insert ins") == [P4]
    assert "Tuesday" in text_of(v4, ".diff-change del")
    assert text_of(steps["v5"], ".diff-insert ins") == [CORRECTION]
    # The latest text closes the page.
    assert CORRECTION in doc.cssselect("article.text")[0].text_content()


def test_article_page_shows_developing_state(story: Newsroom) -> None:
    doc = page(story, f"/articles/{story.article().id}")
    developing = {
        li.get("id")
        for li in doc.cssselect("ol.timeline > li")
        if li.cssselect(".badge-developing")
    }
    assert developing == {"v1", "v2", "v3"}


def test_version_page_shows_the_version_as_it_was(story: Newsroom) -> None:
    aid = story.article().id
    doc = page(story, f"/articles/{aid}/versions/1")
    assert text_of(doc, "h1") == [VERSIONS[0][0]]
    assert text_of(doc, "article.text p")[-1] == MARKER
    assert P3 not in doc.text_content()
    links = [a.get("href") for a in doc.cssselect(".pager a")]
    assert f"http://feeds.test/articles/{aid}/versions/2" in links


def test_version_as_plain_text(story: Newsroom) -> None:
    aid = story.article().id
    response = story.client.get(f"/articles/{aid}/versions/2.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    title, _, body = response.get_data(as_text=True).partition("\n\n")
    assert title == VERSIONS[1][0]
    assert body.rstrip("\n").split("\n\n") == VERSIONS[1][1]


def test_diff_page_marks_the_marker_deleted_and_details_inserted(story: Newsroom) -> None:
    doc = page(story, f"/articles/{story.article().id}/diff/3...4")
    assert text_of(doc, ".diff .diff-delete del") == [MARKER]
    assert text_of(doc, ".diff .diff-insert ins") == [P4]
    assert text_of(doc, ".diff .diff-moved") == [f"{P3} (moved from paragraph 3)"]


def test_diff_page_side_by_side_puts_old_left_new_right(story: Newsroom) -> None:
    doc = page(story, f"/articles/{story.article().id}/diff/1...2?view=side")
    rows = doc.cssselect("table.side tbody tr")
    inserted = [r for r in rows if r.cssselect("ins")]
    assert len(inserted) == 1
    left, right = inserted[0].cssselect("td")
    assert left.text_content() == ""
    assert right.text_content() == P3


def test_diff_across_several_versions(story: Newsroom) -> None:
    doc = page(story, f"/articles/{story.article().id}/diff/1...5")
    assert text_of(doc, "p.headline ins") == ["for a month"]
    assert CORRECTION in text_of(doc, ".diff-insert ins")


def test_unified_diff_is_text_x_diff(story: Newsroom) -> None:
    response = story.client.get(f"/articles/{story.article().id}/diff/1...2.diff")
    assert response.status_code == 200
    assert response.mimetype == "text/x-diff"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[:2] == ["--- version 1", "+++ version 2"]
    assert f"+{P3}" in lines
    assert not [line for line in lines if line.startswith("-") and not line.startswith("---")]


def test_bad_version_range_is_400(story: Newsroom) -> None:
    aid = story.article().id
    for spec in ["2...1", "2...2", "0...2", "1..2", "a...b", "1...2.patch"]:
        response = story.client.get(f"/articles/{aid}/diff/{spec}")
        assert response.status_code == 400, spec
        assert "range" in response.get_data(as_text=True)


def test_unknown_article_or_version_is_404(story: Newsroom) -> None:
    aid = story.article().id
    for path in [
        "/articles/0000000000000000",
        "/articles/0000000000000000/versions/1",
        "/articles/0000000000000000/versions/1.txt",
        "/articles/0000000000000000/diff/1...2",
        f"/articles/{aid}/versions/9",
        f"/articles/{aid}/versions/9.txt",
        f"/articles/{aid}/diff/1...9",
        f"/articles/{aid}/diff/1...9.diff",
    ]:
        response = story.client.get(path)
        assert response.status_code == 404, path
        assert "Traceback" not in response.get_data(as_text=True)


def test_pages_escape_what_upstream_wrote_in_titles(story: Newsroom) -> None:
    story.write("bridge", "Bridge <b>closed</b> & <i>more</i>", *VERSIONS[-1][1])
    story.poll(600)
    for path in pages_of(story):
        body = story.client.get(path).get_data(as_text=True)
        assert "<b>closed</b>" not in body and "<i>more</i>" not in body, path
    assert re.search(
        r"Bridge &lt;b&gt;closed&lt;/b&gt; &amp;", story.client.get("/").get_data(as_text=True)
    )
