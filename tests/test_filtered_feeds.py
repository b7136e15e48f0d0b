"""Filtered revision feeds: /feeds/NAME/revisions.atom?class=...&stealth=1&
min_words=N and /api/feeds/NAME/revisions, the stealth category and the
number changes in the entries, and the OPML "stealth edits" feeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxml.etree as etree
import pytest

from tests.harness import rfc4287
from tests.newsroom import Newsroom
from tests.stories import make_site

A = "{http://www.w3.org/2005/Atom}"
LEAD = "Police said 12 people were killed when the Old Mill Bridge gave way on Monday."
RESCUE = "Rescuers searched the river through the night with boats and divers."
MARKER = "More details to follow."


def publish(site: Newsroom, name: str, title: str, paragraphs: list[str]) -> None:
    """One revision of a story in the newsroom's folder, polled ten minutes on."""
    site.write(name.removesuffix(".txt"), title, *paragraphs)
    site.poll(600)


@pytest.fixture
def site(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    """Five versions: initial, append, stealth edit (12 -> 15), correction,
    silent headline change (stealth)."""
    s = make_site(tmp_path, make_settings, store_for, clock, versions=0)
    t = "Bridge collapse"
    publish(s, "bridge.txt", t, [LEAD, MARKER])
    publish(s, "bridge.txt", t, [LEAD, RESCUE])
    publish(s, "bridge.txt", t, [LEAD.replace("12", "15"), RESCUE])
    publish(
        s,
        "bridge.txt",
        t,
        [LEAD.replace("12", "16"), RESCUE, "Correction: an earlier version said 15 people."],
    )
    publish(
        s,
        "bridge.txt",
        "Bridge collapse: council was warned",
        [LEAD.replace("12", "16"), RESCUE, "Correction: an earlier version said 15 people."],
    )
    return s


def entries(site: Newsroom, path: str) -> list[etree._Element]:
    response = site.client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = etree.fromstring(response.data)
    rfc4287().assertValid(doc)
    return doc.findall(f"{A}entry")


def numbers_of(entry: etree._Element) -> int:
    return int(entry.findtext(f"{A}id").rsplit(":v", 1)[1])


def terms(entry: etree._Element) -> set[str]:
    return {c.get("term") for c in entry.findall(f"{A}category")}


def test_stealth_filter_keeps_only_stealth_edits(site: Newsroom) -> None:
    found = entries(site, "/feeds/city/revisions.atom?stealth=1")
    assert [numbers_of(e) for e in found] == [5, 3]
    assert all("stealth" in terms(e) for e in found)


def test_class_filter(site: Newsroom) -> None:
    found = entries(site, "/feeds/city/revisions.atom?class=headline,correction")
    assert [numbers_of(e) for e in found] == [5, 4]
    assert [terms(e) & {"headline", "correction"} for e in found] == [{"headline"}, {"correction"}]


def test_filters_combine(site: Newsroom) -> None:
    found = entries(site, "/feeds/city/revisions.atom?class=edit,headline&stealth=1")
    assert [numbers_of(e) for e in found] == [5, 3]
    # Words are counted in the text: the headline change (5) changed none.
    found = entries(site, "/feeds/city/revisions.atom?class=edit,headline&stealth=1&min_words=2")
    assert [numbers_of(e) for e in found] == [3]
    assert entries(site, "/feeds/city/revisions.atom?stealth=0&min_words=1000") == []


def test_entries_keep_the_ids_of_the_unfiltered_feed(site: Newsroom) -> None:
    every = {e.findtext(f"{A}id") for e in entries(site, "/feeds/city/revisions.atom")}
    stealth = {e.findtext(f"{A}id") for e in entries(site, "/feeds/city/revisions.atom?stealth=1")}
    assert stealth < every


def test_filtered_feed_has_its_own_canonical_self_link_and_id(site: Newsroom) -> None:
    doc = etree.fromstring(
        site.client.get("/feeds/city/revisions.atom?stealth=true&class=headline,edit").data
    )
    (self_link,) = [
        link.get("href") for link in doc.findall(f"{A}link") if link.get("rel") == "self"
    ]
    assert self_link == "http://feeds.test/feeds/city/revisions.atom?class=edit,headline&stealth=1"
    assert (
        doc.findtext(f"{A}id")
        == "tag:feedsvc,2026:feed:city:revisions?class=edit,headline&stealth=1"
    )
    plain = etree.fromstring(site.client.get("/feeds/city/revisions.atom").data)
    assert plain.findtext(f"{A}id") == "tag:feedsvc,2026:feed:city:revisions"


def test_filtered_feed_answers_304_to_its_etag(site: Newsroom) -> None:
    path = "/feeds/city/revisions.atom?stealth=1"
    first = site.client.get(path)
    etag = first.headers["ETag"]
    assert site.client.get(path, headers={"If-None-Match": etag}).status_code == 304
    other = site.client.get("/feeds/city/revisions.atom?class=correction")
    assert other.headers["ETag"] != etag


@pytest.mark.parametrize(
    "query",
    ["class=rewrite", "class=", "stealth=yes", "min_words=-1", "min_words=ten", "min_words=1e9"],
)
def test_bad_filter_values_are_400(site: Newsroom, query: str) -> None:
    response = site.client.get(f"/feeds/city/revisions.atom?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_data(as_text=True)


def test_revision_entry_names_the_number_change(site: Newsroom) -> None:
    (entry,) = [e for e in entries(site, "/feeds/city/revisions.atom") if numbers_of(e) == 3]
    content = entry.findtext(f"{A}content")
    assert "Numbers: 12 -&gt; 15 (people were killed)" in content
    assert "Stealth edit" in content


def test_article_entry_carries_the_stealth_category(site: Newsroom) -> None:
    (entry,) = entries(site, "/feeds/city.atom")
    assert {"updated", "stealth"} <= terms(entry)


def test_api_revisions_take_the_same_filters(site: Newsroom) -> None:
    body = site.client.get("/api/feeds/city/revisions?stealth=1").get_json()
    assert [r["number"] for r in body["revisions"]] == [5, 3]
    third = body["revisions"][1]
    assert third["stealth"] is True
    assert third["changes"]["numbers"] == [
        {"old": "12", "new": "15", "context": "people were killed"}
    ]
    assert site.client.get("/api/feeds/city/revisions?class=nope").status_code == 400


def test_opml_lists_a_stealth_edits_feed_per_feed(site: Newsroom) -> None:
    doc = etree.fromstring(site.client.get("/feeds.opml").data)
    urls = [o.get("xmlUrl") for o in doc.iter("outline") if o.get("xmlUrl")]
    assert "http://feeds.test/feeds/city/revisions.atom?stealth=1" in urls
