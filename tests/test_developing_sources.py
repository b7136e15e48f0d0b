"""A developing story in a source that is its own text (a local file, a feed
of summaries) makes the source poll sooner: 2m, 4m, 8m... after the change,
back to the interval once the marker is gone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from feedsvc.pool import poll_sources
from feedsvc.update import Updater

STORY = """Harbour bridge closed after cracks found in main span

Engineers closed the Harbour Bridge to all traffic early on Tuesday morning after an
overnight inspection found cracks in a steel beam of the main span.

{last}
"""


def test_a_developing_local_story_polls_its_source_fast_then_returns_to_the_interval(
    tmp_path: Path, make_settings: Any, store_for: Any, clock: Any
) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    story = folder / "bridge.txt"
    story.write_text(STORY.format(last="More details to follow."))
    settings = make_settings(
        [{"name": "local", "sources": [str(folder)]}],
        scheduler={"interval": "15m", "developing_interval": "2m"},
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    updater = Updater(settings, store, clock=clock)
    t0 = clock()
    poll_sources(updater, "w", due_only=False)

    def next_poll() -> Any:
        [source] = store.list_sources()
        return source.next_poll_at

    polls = []
    for _ in range(5):
        polls.append((next_poll() - t0) / timedelta(minutes=1))
        clock.now = next_poll()
        assert [o.new_versions for o in poll_sources(updater, "w")] == [0]
    assert polls == [2, 4, 8, 16, 31]

    story.write_text(STORY.format(last="Ferries will run every ten minutes until further notice."))
    clock.now = next_poll()
    assert [o.new_versions for o in poll_sources(updater, "w")] == [1]
    assert next_poll() - clock() >= timedelta(minutes=15)
