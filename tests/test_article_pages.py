"""Article pages: fetch_articles, developing stories polled fast with backoff,
and the extraction guard.

The news site (tests/newssite.py) is a local HTTP server whose pages change
between polls. The clock is a FakeClock moved by hand; nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

from tests.newssite import NewsSite, atom, next_check, page


def test_done_a_developing_page_becomes_one_clean_entry_with_only_real_revisions(
    site: NewsSite, world: Any, clock: Any
) -> None:
    """The issue's done-criterion: fetch_articles against a page that goes
    from "More details to follow." to the fuller story."""
    site.items = [("Panjshir: Taliban suffer heavy losses", "/2021/09/panjshir")]
    site.publish("/2021/09/panjshir", page("wordpress/v1.html"))
    settings, store, updater = world()

    assert [
        (o.new_articles, o.new_versions, o.error) for o in updater.poll("w", due_only=False)
    ] == [(1, 1, None)]
    aid = store.find_article(site.url("/2021/09/panjshir")).id

    # A boilerplate-only revision (comments, sidebar, nonce, cache-buster).
    site.publish("/2021/09/panjshir", page("wordpress/v2.html"))
    clock.advance(120)
    assert [o.new_versions for o in updater.check_articles("w")] == [0]

    # The story itself: the marker gives way to two paragraphs.
    site.publish("/2021/09/panjshir", page("wordpress/v3.html"))
    clock.advance(240)
    assert [o.new_versions for o in updater.check_articles("w")] == [1]
    clock.advance(900)
    assert [o.new_versions for o in updater.poll("w", due_only=False)] == [0]

    feed = atom(settings, store)
    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == "Taliban suffer heavy losses in Panjshir Valley."  # the page's headline
    body, _, history = entry.content[0].value.partition("Update history")
    assert "Fighting resumed overnight near the village of Khawak" in body
    assert "Today, Taliban forces attempted to enter Panjshir Valley" in body
    for noise in ("Leave a Reply", "Skip to content", "Image Credit", "Share this", "Comments"):
        assert noise not in body
    assert "More details to follow." not in body
    assert history.count("<li>") == 2
    assert "Version 2" in history and "Version 3" not in history
    assert {t.term for t in entry.tags} == {"updated"}
    assert [v.change_class for v in store.get_versions(aid)] == ["initial", "append"]


def test_the_feed_summary_is_not_versioned_when_articles_are_fetched(
    site: NewsSite, world: Any
) -> None:
    site.items = [("Library to close", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    version = store.get_versions(store.find_article(site.url("/eastgate")).id, full=True)[0]
    assert "A short summary from the feed." not in version.text
    assert version.text.startswith("Residents\u2019 four-year campaign to save the Eastgate branch")
    assert store.get_raw(version.raw_id).url == site.url("/eastgate")  # the page is the evidence


def test_an_unchanged_page_is_fetched_conditionally_and_makes_no_version(
    site: NewsSite, world: Any, clock: Any
) -> None:
    site.items = [("Library to close", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/eastgate")).id
    clock.now = next_check(store, aid)
    assert [(o.new_versions, o.not_modified) for o in updater.check_articles("w")] == [(0, True)]
    eastgate = [h for h in site.hits if h[0] == "/eastgate"]
    assert len(eastgate) == 2 and eastgate[1][1] is not None  # If-None-Match sent: 304
    assert len(store.get_versions(aid)) == 1


def test_a_feed_poll_checks_at_once_only_the_pages_of_new_or_changed_entries(
    site: NewsSite, world: Any, clock: Any
) -> None:
    site.items = [("Library to close", "/eastgate")]
    site.publish("/eastgate", page("ghost/v1.html"))
    _, _, updater = world()
    updater.poll("w", due_only=False)
    clock.advance(300)

    # A new entry: its page is fetched; the unchanged entry's page waits.
    site.items.append(("Harwick derailment", "/harwick"))
    site.publish("/harwick", page("newspaper/v4.html"))
    assert [(o.new_articles, o.new_versions) for o in updater.poll("w", due_only=False)] == [(1, 1)]
    assert site.hits_of("/eastgate") == 1

    # The site retitles the entry in its feed: the page is checked at once.
    clock.advance(300)
    site.items[0] = ("Library to close at the end of the year", "/eastgate")
    updater.poll("w", due_only=False)
    assert site.hits_of("/eastgate") == 2
    assert site.hits_of("/harwick") == 1


def test_an_unchanged_feed_costs_one_304_and_no_page_fetches(
    site: NewsSite, world: Any, clock: Any
) -> None:
    site.items = [("Library to close", "/eastgate"), ("Harwick", "/harwick")]
    site.publish("/eastgate", page("ghost/v1.html"))
    site.publish("/harwick", page("newspaper/v4.html"))
    _, _, updater = world()
    updater.poll("w", due_only=False)
    clock.advance(900)
    before = len(site.hits)
    assert [o.not_modified for o in updater.poll("w", due_only=False)] == [True]
    assert site.hits[before:] == [("/feed.xml", site.hits[before][1])]
    assert site.hits[before][1] is not None


def test_boilerplate_only_page_changes_are_not_revisions_on_any_template(
    site: NewsSite, world: Any, clock: Any
) -> None:
    site.items = [("Eastgate", "/eastgate"), ("Harwick", "/harwick"), ("Panjshir", "/panjshir")]
    site.publish("/eastgate", page("ghost/v1.html"))
    site.publish("/harwick", page("newspaper/v1.html"))
    site.publish("/panjshir", page("wordpress/v1.html"))
    _, store, updater = world(developing_interval="15m")
    updater.poll("w", due_only=False)
    site.publish("/eastgate", page("ghost/v2.html"))
    site.publish("/harwick", page("newspaper/v2.html"))
    site.publish("/panjshir", page("wordpress/v2.html"))
    clock.advance(900)
    updater.poll("w", due_only=False)
    updater.check_articles("w")
    counts = {
        path: len(store.get_versions(store.find_article(site.url(path)).id))
        for path in ("/eastgate", "/harwick", "/panjshir")
    }
    assert counts == {"/eastgate": 1, "/harwick": 1, "/panjshir": 1}


def test_a_developing_story_is_polled_fast_backs_off_and_returns_to_the_interval(
    site: NewsSite, world: Any, clock: Any
) -> None:
    site.items = [("Harwick train derailment", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))  # "This is a developing story"
    settings, store, updater = world()
    t0 = clock()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    assert store.get_article(aid).developing
    assert next_check(store, aid) == t0 + timedelta(minutes=2)

    # Unchanged checks double the gap: 2m, 4m, 8m, then the 15m interval caps it.
    site.publish("/harwick", page("newspaper/v2.html"))  # boilerplate only
    gaps = []
    for _ in range(4):
        clock.now = next_check(store, aid)
        assert [o.new_versions for o in updater.check_articles("w")] == [0]
        gaps.append((next_check(store, aid) - clock()).total_seconds())
    assert gaps == [240, 480, 900, 900]

    # A real change while still developing: fast again.
    site.publish("/harwick", page("newspaper/v3.html"))  # 12 dead -> 15 dead
    clock.now = next_check(store, aid)
    assert [o.new_versions for o in updater.check_articles("w")] == [1]
    assert next_check(store, aid) == clock() + timedelta(minutes=2)
    assert "developing" in {t.term for t in atom(settings, store).entries[0].tags}

    # The marker goes: back to the bottom of the ladder, the feed's pace.
    site.publish("/harwick", page("newspaper/v4.html"))
    clock.now = next_check(store, aid)
    assert [o.new_versions for o in updater.check_articles("w")] == [1]
    assert next_check(store, aid) == clock() + timedelta(minutes=15)
    assert not store.get_article(aid).developing
    # v3's 12 -> 15 dead came with no notice and an unmoved page date: stealth.
    assert {t.term for t in atom(settings, store).entries[0].tags} == {"updated", "stealth"}
    assert updater.check_articles("w") == []


def test_a_developing_story_returns_to_the_ladder_after_the_window(
    site: NewsSite, world: Any, clock: Any
) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    _, store, updater = world(developing_window="1h")
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    t0 = store.get_article(aid).updated_at
    checks = []  # minutes after the change
    while (when := next_check(store, aid)) is not None and when - t0 < timedelta(hours=8):
        clock.now = when
        updater.check_articles("w")
        checks.append((when - t0).total_seconds() / 60)
    # 2m, then gaps of 4m, 8m, 15m (capped by the feed's interval) ...
    assert checks[:4] == [2, 6, 14, 29]
    # ... and once the window has passed, the ladder alone: the feed's
    # interval to 6h after the change, then hourly.
    gaps = [b - a for a, b in pairwise(checks)]
    assert set(gaps[3:]) == {15, 60}
    assert all(b - a == 60 for a, b in pairwise(checks) if a >= 6 * 60)
    assert store.get_article(aid).developing  # still marked; just not checked fast


def test_a_paywall_fragment_is_confirmed_then_kept_out_of_the_feed(
    site: NewsSite, world: Any, clock: Any
) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    settings, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id

    site.publish("/harwick", page("newspaper/paywall.html"))
    clock.now = next_check(store, aid)
    before = site.hits_of("/harwick")
    updater.check_articles("w")
    assert site.hits_of("/harwick") - before == 2  # confirmed by a second fetch
    assert [(v.number, v.suspect) for v in store.get_versions(aid)] == [(1, False), (2, True)]
    entry = atom(settings, store).entries[0]
    assert "At least 12 people have died" in entry.content[0].value
    assert "Version 2" not in entry.content[0].value

    # The article comes back, with a real change: published again.
    site.publish("/harwick", page("newspaper/v3.html"))
    clock.now = next_check(store, aid)
    updater.check_articles("w")
    assert [(v.number, v.suspect) for v in store.get_versions(aid)][-1] == (3, False)
    content = atom(settings, store).entries[0].content[0].value
    assert "At least 15 people have died" in content


def test_a_fragment_that_the_second_fetch_contradicts_is_no_revision(
    site: NewsSite, world: Any, clock: Any
) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    site.once["/harwick"] = [page("newspaper/paywall.html")]  # a one-off error template
    clock.now = next_check(store, aid)
    assert [o.new_versions for o in updater.check_articles("w")] == [0]
    assert [v.number for v in store.get_versions(aid)] == [1]


def test_a_small_real_edit_passes_the_guard(site: NewsSite, world: Any, clock: Any) -> None:
    site.items = [("Harwick", "/harwick")]
    site.publish("/harwick", page("newspaper/v1.html"))
    _, store, updater = world()
    updater.poll("w", due_only=False)
    aid = store.find_article(site.url("/harwick")).id
    site.publish("/harwick", page("newspaper/v3.html"))
    clock.now = next_check(store, aid)
    before = site.hits_of("/harwick")
    assert [o.new_versions for o in updater.check_articles("w")] == [1]
    assert site.hits_of("/harwick") - before == 1  # no second fetch needed
    v2 = store.get_versions(aid)[-1]
    assert (v2.suspect, v2.words_added, v2.words_removed) == (False, 1, 1)
