"""Pure: the schedule decisions (schedule.py), as tables.

When is a source polled, when is an article's page checked, and when does
a feed poll look at a page at once. No database, no HTTP, no clock: each
row is (history, settings, now) -> decision.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from feedsvc.config import SETTINGS
from feedsvc.models import EntryData
from feedsvc.schedule import (
    PageHistory,
    PageNext,
    PageRules,
    after_check,
    after_failure,
    check_with_feed,
    developing_gap,
    entry_fingerprint,
    ladder_gap,
    next_poll,
    page_gap,
)

M, H, D = 60.0, 3600.0, 86400.0
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DEFAULT_LADDER = next(s.default for s in SETTINGS if s.name == "recheck")


def rules(**kw: object) -> PageRules:
    values: dict[str, object] = {
        "interval": 15 * M,
        "ladder": DEFAULT_LADDER,
        "developing_interval": 2 * M,
        "developing_window": 48 * H,
        "max_backoff": D,
    }
    return PageRules(**(values | kw))  # type: ignore[arg-type]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_default_ladder_is_the_feed_interval_then_hourly_six_hourly_daily() -> None:
    assert DEFAULT_LADDER == ((6 * H, None), (2 * D, H), (7 * D, 6 * H), (30 * D, D))


@pytest.mark.parametrize(
    ("age", "interval", "gap"),
    [
        (0, 15 * M, 15 * M),  # young: as often as the feed is polled
        (6 * H - 1, 15 * M, 15 * M),
        (6 * H, 15 * M, H),  # then hourly for two days
        (2 * D - 1, 15 * M, H),
        (2 * D, 15 * M, 6 * H),  # every six hours to a week
        (7 * D, 15 * M, D),  # daily to a month
        (30 * D - 1, 15 * M, D),
        (30 * D, 15 * M, None),  # then no more
        (400 * D, 15 * M, None),
        # A feed polled every 2h: the hourly rung would check a page more
        # often at 6h than at 0h; the ladder never gets more frequent.
        (0, 2 * H, 2 * H),
        (10 * H, 2 * H, 2 * H),
        (3 * D, 2 * H, 6 * H),
    ],
)
def test_the_ladder_by_age_of_the_last_change(age: float, interval: float, gap: float) -> None:
    assert ladder_gap(age, rules(interval=interval)) == gap


@pytest.mark.parametrize(
    ("unchanged", "developing_interval", "gap"),
    [
        (0, 2 * M, 2 * M),
        (1, 2 * M, 4 * M),
        (2, 2 * M, 8 * M),
        (3, 2 * M, 15 * M),  # the feed's interval caps the doubling
        (40, 2 * M, 15 * M),
        (1_000, 2 * M, 15 * M),  # issue 12: 2 ** 1000 checks overflowed a float
        (10**9, 2 * M, 15 * M),
        (0, 30 * M, 15 * M),  # longer than the interval: still the feed's pace
        (5, 30 * M, 15 * M),
    ],
)
def test_a_developing_story_doubles_while_unchanged_never_slower_than_its_feed(
    unchanged: int, developing_interval: float, gap: float
) -> None:
    assert developing_gap(unchanged, rules(developing_interval=developing_interval)) == gap


@pytest.mark.parametrize(
    ("history", "now", "gap"),
    [
        (PageHistory(T0), at(0), 15 * M),
        (PageHistory(T0), at(3 * D), 6 * H),
        (PageHistory(T0), at(31 * D), None),
        # A developing marker only ever shortens the gap ...
        (PageHistory(T0, developing=True), at(0), 2 * M),
        (PageHistory(T0, developing=True, unchanged_checks=2), at(1 * H), 8 * M),
        (PageHistory(T0, developing=True, unchanged_checks=9), at(12 * H), 15 * M),
        # ... and only within developing_window of the last change.
        (PageHistory(T0, developing=True), at(48 * H), 6 * H),
        (PageHistory(T0, developing=True), at(31 * D), None),
        # A page configured as a source stays on the last rung.
        (PageHistory(T0, page_source=True), at(31 * D), D),
        (PageHistory(T0, page_source=True), at(3 * 365 * D), D),
    ],
)
def test_the_gap_to_a_pages_next_check(
    history: PageHistory, now: datetime, gap: float | None
) -> None:
    assert page_gap(history, rules(), now) == gap


def test_a_developing_interval_longer_than_the_feeds_never_slows_a_page_down() -> None:
    slow = rules(developing_interval=45 * M)
    for age in (0, 5 * H, 7 * H, 30 * H, 47 * H):
        plain = page_gap(PageHistory(T0), slow, at(age))
        marked = page_gap(PageHistory(T0, developing=True), slow, at(age))
        assert plain is not None and marked is not None
        assert marked <= min(plain, slow.interval), age


def unchanged_checks_for(history: PageHistory, r: PageRules, limit: int = 1000) -> list[float]:
    """The times (seconds after T0) a page is checked while it never
    changes, until its checks stop."""
    times = []
    now = T0
    for _ in range(limit):
        decision = after_check(history, r, now, changed=False)
        if decision.at is None:
            return times
        now = decision.at
        times.append((now - T0).total_seconds())
        history = PageHistory(history.last_change, history.developing, decision.unchanged_checks)
    raise AssertionError("the checks never stopped")


def test_an_unchanged_page_is_checked_rarer_with_age_then_not_at_all() -> None:
    times = unchanged_checks_for(PageHistory(T0), rules())
    gaps = [b - a for a, b in pairwise([0.0, *times])]
    assert gaps == sorted(gaps)  # never more often than before
    assert set(gaps) == {15 * M, H, 6 * H, D}
    assert times[-1] >= 30 * D
    # 6h of 15m, 42h of hourly, 5 days of 6-hourly, 23 days of daily.
    assert len(times) == 24 + 42 + 20 + 23


def test_a_change_brings_the_page_back_to_the_bottom_rung() -> None:
    old = PageHistory(T0, unchanged_checks=70)
    assert after_check(old, rules(), at(10 * D), changed=False) == PageNext(at(11 * D), 71)
    assert after_check(old, rules(), at(10 * D), changed=True) == PageNext(at(10 * D + 15 * M), 0)
    # Past the end of the ladder too: a change starts it again.
    assert after_check(old, rules(), at(45 * D), changed=False).at is None
    assert after_check(old, rules(), at(45 * D), changed=True).at == at(45 * D + 15 * M)


@pytest.mark.parametrize(
    ("prior", "changed", "developing", "expected"),
    [
        (None, True, False, PageNext(at(15 * M), 0)),  # a new article
        (None, True, True, PageNext(at(2 * M), 0)),  # a new developing story
        (PageHistory(T0, developing=True), False, False, PageNext(at(4 * M), 1)),
        (
            PageHistory(T0, developing=True, unchanged_checks=1),
            False,
            False,
            PageNext(at(8 * M), 2),
        ),
        (PageHistory(T0, developing=True, unchanged_checks=5), True, True, PageNext(at(2 * M), 0)),
        (
            PageHistory(T0, developing=True, unchanged_checks=5),
            True,
            False,
            PageNext(at(15 * M), 0),
        ),
        (PageHistory(T0, failures=4), False, False, PageNext(at(15 * M), 1, failures=0)),
    ],
)
def test_after_a_successful_check(
    prior: PageHistory | None, changed: bool, developing: bool, expected: PageNext
) -> None:
    assert after_check(prior, rules(), T0, changed=changed, developing=developing) == expected


def test_a_failing_page_backs_off_on_its_own_and_keeps_its_place_on_the_ladder() -> None:
    history = PageHistory(T0, unchanged_checks=3)
    gaps = []
    for _ in range(30):
        decision = after_failure(history, rules(), T0, key="a1")
        assert decision.unchanged_checks == 3
        gaps.append((decision.at - T0).total_seconds() if decision.at else None)
        history = PageHistory(T0, unchanged_checks=3, failures=decision.failures)
    assert all(g is not None for g in gaps)
    assert gaps[0] < gaps[1] < gaps[2] < gaps[3]  # exponential
    assert max(g or 0 for g in gaps) <= D * 1.1  # max_backoff, plus jitter
    assert after_failure(PageHistory(T0), rules(), T0, retry_after=7200).at >= at(7200)
    many = after_failure(PageHistory(T0, failures=10**6), rules(), T0)  # no overflow
    assert many.at is not None and many.at <= at(D * 1.1)


def test_a_source_that_keeps_failing_never_overflows() -> None:
    assert next_poll(T0, 900, failures=5_000, jitter=0) == at(D)


@pytest.mark.parametrize(
    ("status", "stored", "everything", "check"),
    [
        (None, None, False, True),  # a new article: its page is its first version
        ("active", "same", False, False),  # nothing new in the feed: its own schedule
        ("active", "before", False, True),  # its entry changed in the feed
        ("active", None, False, True),  # never fingerprinted (an older database)
        ("dropped", "same", False, True),  # back in its feed
        ("stopped", "same", False, True),
        ("active", "same", True, True),  # `feedsvc poll`: look at everything now
        ("gone", "before", True, False),  # a 404/410 ended it
        ("moved", "before", True, False),
    ],
)
def test_when_a_feed_poll_checks_an_entrys_page_at_once(
    status: str | None, stored: str | None, everything: bool, check: bool
) -> None:
    assert (
        check_with_feed(status=status, stored_entry=stored, entry="same", everything=everything)
        is check
    )


ENTRY = EntryData(
    key="https://courier.test/harwick",
    title="Harwick derailment: 12 dead",
    url="https://courier.test/harwick",
    html="<p>A train left the tracks near Harwick.</p>",
    published=T0,
)


@pytest.mark.parametrize(
    ("changed", "same"),
    [
        ({"html": "<p>A train left   the tracks\nnear Harwick.</p>"}, True),  # whitespace
        ({"extractor": "feedparser 6.1", "author": "Staff"}, True),  # not the entry's facts
        ({"title": "Harwick derailment: 15 dead"}, False),
        ({"html": "<p>A train left the tracks near Harwick on Monday.</p>"}, False),
        ({"updated": T0 + timedelta(hours=2)}, False),
        ({"published": T0 + timedelta(hours=1)}, False),
        ({"url": "https://courier.test/harwick-derailment"}, False),
    ],
)
def test_an_entry_changed_in_the_feed_is_told_by_its_fingerprint(
    changed: dict[str, object], same: bool
) -> None:
    from dataclasses import replace

    other = replace(ENTRY, **changed)  # type: ignore[arg-type]
    assert (entry_fingerprint(other) == entry_fingerprint(ENTRY)) is same
