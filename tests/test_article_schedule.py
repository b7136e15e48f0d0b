"""Pure: when an article's page is checked on its own schedule."""

from __future__ import annotations

from typing import Any

from feedsvc.schedule import article_check_delay

LADDER = ((6 * 3600.0, 900.0), (86400.0, 3600.0), (7 * 86400.0, 86400.0))


def delay(**kw: Any) -> float | None:
    args: dict[str, Any] = {
        "developing": False,
        "since_change": 0.0,
        "unchanged_checks": 0,
        "in_feed": True,
        "interval": 900.0,
        "developing_interval": 120.0,
        "developing_window": 48 * 3600.0,
        "ladder": LADDER,
    }
    return article_check_delay(**(args | kw))


def test_developing_doubles_while_unchanged_up_to_the_interval() -> None:
    gaps = [delay(developing=True, unchanged_checks=n) for n in range(6)]
    assert gaps == [120, 240, 480, 900, 900, 900]


def test_developing_ends_with_the_window_since_the_last_change() -> None:
    assert delay(developing=True, since_change=47 * 3600) == 120
    assert delay(developing=True, since_change=48 * 3600) is None


def test_an_article_in_its_feed_has_no_schedule_of_its_own() -> None:
    assert delay(in_feed=True, since_change=3600) is None


def test_an_article_out_of_its_feed_climbs_the_ladder_then_stops() -> None:
    ages = [0, 6 * 3600 - 1, 6 * 3600, 86400, 7 * 86400 - 1, 7 * 86400]
    assert [delay(in_feed=False, since_change=a) for a in ages] == [
        900,
        900,
        3600,
        86400,
        86400,
        None,
    ]


def test_a_developing_article_out_of_its_feed_is_still_polled_fast() -> None:
    assert delay(developing=True, in_feed=False, since_change=60) == 120


def test_a_source_with_a_developing_story_is_polled_by_time_since_the_change() -> None:
    from feedsvc.schedule import developing_source_delay

    # Polled at 2m, 4m, 8m, 16m ... after the change: doubling, no counter.
    t, times = 0.0, []
    for _ in range(5):
        t += developing_source_delay(t, 120, 900)
        times.append(t / 60)
    assert times == [2, 4, 8, 16, 31]
