"""The HTML pages for reading revisions render for an article with one,
two and five versions, on each storage backend, and follow its changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.newsroom import VERSIONS, Newsroom
from tests.stories import discovery, make_site, page, pages_of, text_of


@pytest.fixture(params=[1, 2, 5], ids=["1-version", "2-versions", "5-versions"])
def site(request: Any, tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    return make_site(tmp_path, make_settings, store_for, clock, versions=request.param)


@pytest.fixture
def story(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    return make_site(tmp_path, make_settings, store_for, clock, versions=5)


def test_every_page_renders_with_feed_discovery(site: Newsroom) -> None:
    for path in pages_of(site):
        doc = page(site, path)
        assert "http://feeds.test/feeds/city.atom" in discovery(doc), path
        assert doc.cssselect('link[rel="stylesheet"]'), path


def test_index_lists_the_latest_revisions_and_the_feeds(site: Newsroom) -> None:
    doc = page(site, "/")
    n = site.article().latest_version
    revisions = text_of(doc, "section:not(.developing) li")
    assert len([r for r in revisions if r.startswith(VERSIONS[n - 1][0])]) >= 1
    assert any(f"version {n}" in r for r in revisions)
    assert "City News" in " ".join(text_of(doc, "a"))


def test_index_puts_developing_stories_first(site: Newsroom) -> None:
    doc = page(site, "/")
    developing = text_of(doc, "section.developing li")
    if site.article().developing:  # versions 1 to 3 end "More details to follow."
        assert developing and developing[0].startswith(
            VERSIONS[site.article().latest_version - 1][0]
        )
        assert doc.cssselect("section")[0].get("class") == "developing"
    else:
        assert developing == []


def test_article_page_shows_a_timeline_newest_first(site: Newsroom) -> None:
    n = site.article().latest_version
    doc = page(site, f"/articles/{site.article().id}")
    steps = text_of(doc, "ol.timeline > li p.step")
    assert [s.split()[1] for s in steps] == [str(k) for k in range(n, 0, -1)]
    for step, (_, _, change_class) in zip(reversed(steps), VERSIONS[:n], strict=True):
        assert change_class in step
    assert text_of(doc, "h1") == [VERSIONS[n - 1][0]]


def test_pages_answer_conditional_requests(story: Newsroom) -> None:
    path = f"/articles/{story.article().id}"
    first = story.client.get(path)
    assert first.headers["ETag"]
    again = story.client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_new_version_changes_the_article_page(story: Newsroom) -> None:
    path = f"/articles/{story.article().id}"
    before = story.client.get(path)
    title, paragraphs, _ = VERSIONS[-1]
    story.write("bridge", title, *paragraphs, "The bridge reopened on Friday.")
    story.poll(600)
    after = story.client.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "The bridge reopened on Friday." in after.get_data(as_text=True)
