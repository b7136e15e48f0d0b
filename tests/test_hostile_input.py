"""Hostile and broken upstreams. Each one gets a clear error or warning on its
own source and harms nothing else: the feed's other source is still polled,
the poll returns, and what is stored and served stays valid."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from feedsvc import config
from feedsvc.models import PollOutcome
from feedsvc.pool import poll_sources
from feedsvc.storage import Store
from feedsvc.update import Updater
from feedsvc.web import create_app
from tests.harness import cli_env

GOOD = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour Gazette</title><link>http://gazette.test/</link>
<description>d</description>
<item><title>Ferry timetable changes</title><guid>urn:gazette:ferry</guid>
<link>http://gazette.test/ferry</link>
<description>&lt;p&gt;Ferries run every ten minutes from Monday.&lt;/p&gt;</description></item>
</channel></rss>"""


def item(i: int, body: str = "", guid: str | None = None) -> str:
    return (
        f"<item><title>Story {i}</title><guid>{guid or f'urn:wire:{i}'}</guid>"
        f"<description>{body or f'What happened in story {i}.'}</description></item>"
    )


def rss(items: str, title: str = "Wire") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}'
        f"</title><link>http://wire.test/</link><description>d</description>{items}"
        "</channel></rss>"
    ).encode()


class Upstreams:
    """A good feed and a hostile one, both sources of the feed "wire"."""

    def __init__(
        self, server: HTTPServer, make_settings: Any, store_for: Any, clock: Any, **scheduler: Any
    ) -> None:
        self.hostile: bytes | Callable[[], bytes] = b""
        self.content_type = "application/rss+xml"
        server.expect_request("/good.xml").respond_with_data(
            GOOD, content_type="application/rss+xml"
        )
        server.expect_request("/hostile.xml").respond_with_handler(self.answer)
        self.good_url = server.url_for("/good.xml")
        self.hostile_url = server.url_for("/hostile.xml")
        self.settings = make_settings(
            [{"name": "wire", "sources": [self.hostile_url, self.good_url]}],
            scheduler=scheduler or None,
        )
        self.store: Store = store_for(self.settings)
        self.clock = clock
        self.store.sync_sources(self.settings.feeds, clock())
        self.updater = Updater(self.settings, self.store, clock=clock)

    def answer(self, request: Request) -> Response:
        body = self.hostile() if callable(self.hostile) else self.hostile
        return Response(body, content_type=self.content_type)

    def poll(self) -> dict[str, PollOutcome]:
        """Poll both now; the good source must have been polled fine."""
        outcomes = {o.locator: o for o in poll_sources(self.updater, "test", due_only=False)}
        assert set(outcomes) == {self.hostile_url, self.good_url}
        good = outcomes[self.good_url]
        assert good.error is None
        assert self.store.find_article("urn:gazette:ferry").latest_version == 1
        return outcomes

    def hostile_outcome(self) -> PollOutcome:
        return self.poll()[self.hostile_url]

    def source(self, url: str) -> Any:
        [row] = [r for r in self.store.list_sources() if r.locator == url]
        return row

    def served(self) -> etree._Element:
        """/feeds/wire.atom, parsed by a strict XML parser."""
        client = create_app(self.settings, self.store).test_client()
        response = client.get("/feeds/wire.atom")
        assert response.status_code == 200
        return etree.fromstring(response.data, etree.XMLParser(resolve_entities=False))

    def healthz(self) -> dict[str, Any]:
        client = create_app(self.settings, self.store).test_client()
        data: dict[str, Any] = client.get("/healthz").get_json()
        return data


@pytest.fixture
def upstreams(httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any) -> Upstreams:
    return Upstreams(httpserver, make_settings, store_for, clock)


ATOM = "{http://www.w3.org/2005/Atom}"


def stored_titles(store: Store) -> set[str]:
    return {e.latest.title for e in store.list_feed_entries("wire", 2000)}


def test_truncated_xml_is_refused_not_stored_half(upstreams: Upstreams) -> None:
    whole = rss(item(1) + item(2, "A long second story that the cut ends in the middle of."))
    upstreams.hostile = whole[: whole.index(b"ends in the")]
    outcome = upstreams.hostile_outcome()
    assert outcome.error and "cut short" in outcome.error
    assert stored_titles(upstreams.store) == {"Ferry timetable changes"}
    assert upstreams.source(upstreams.hostile_url).failures == 1  # backed off


def test_malformed_but_complete_xml_is_read_leniently_with_a_warning(
    upstreams: Upstreams,
) -> None:
    # An unclosed <b> and a bare "&": common in the wild.
    upstreams.hostile = rss(item(1, "Profits at AT&T rose <b>sharply.") + item(2))
    outcome = upstreams.hostile_outcome()
    assert outcome.error is None
    assert outcome.warning and "not well-formed XML" in outcome.warning
    assert {"Story 1", "Story 2"} <= stored_titles(upstreams.store)


def test_garbage_is_a_clear_error(upstreams: Upstreams) -> None:
    upstreams.hostile = b"<rss><<<&&&\x00\x01>>>"
    outcome = upstreams.hostile_outcome()
    assert outcome.error and "not a valid feed" in outcome.error


def _laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    for n in range(1, 10):
        entities.append(f'<!ENTITY lol{n} "' + f"&lol{n - 1};" * 10 + '">')
    body = rss(item(1, "&lol9;")).split(b"?>", 1)[1]
    return b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(entities).encode() + b"]>" + body


BILLION_LAUGHS = _laughs()


def test_billion_laughs_is_refused_without_expanding(upstreams: Upstreams) -> None:
    upstreams.hostile = BILLION_LAUGHS
    tracemalloc.start()
    try:
        outcome = upstreams.hostile_outcome()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.error and "declares XML entities" in outcome.error
    assert peak < 50_000_000  # expanded, it would be 3 GB


def test_a_feed_of_100000_entries_is_read_in_bounded_parts(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any
) -> None:
    up = Upstreams(httpserver, make_settings, store_for, clock, max_new_articles=300)
    up.hostile = rss(
        "".join(f"<item><guid>w{i}</guid><title>S{i}</title></item>" for i in range(100_000))
    )
    assert len(up.hostile) > 4_000_000  # under [fetch] max_bytes: the feed is read

    first = up.hostile_outcome()
    assert first.error is None
    assert first.new_articles == 300
    assert first.warning
    assert "100000 entries; only the first 1000 were read" in first.warning
    assert "700 new articles over max_new_articles (300) wait for the next poll" in first.warning
    health = up.healthz()
    assert [w["source"] for w in health["warnings"]] == [up.hostile_url]
    assert "wait for the next poll" in health["warnings"][0]["warning"]

    # The held-back ones arrive on later polls, in order; then it is quiet.
    assert up.hostile_outcome().new_articles == 300
    assert up.hostile_outcome().new_articles == 300
    assert up.hostile_outcome().new_articles == 100
    assert up.store.count_articles("wire") == 1000 + 1
    assert "S999" in stored_titles(up.store)


def test_an_entry_with_a_5_mb_body_is_skipped_and_the_others_kept(upstreams: Upstreams) -> None:
    fat = "&lt;p&gt;Paragraph of a very long story.&lt;/p&gt;" * 110_000
    upstreams.hostile = rss(item(1) + item(2, fat) + item(3))
    assert len(upstreams.hostile) > 5_000_000
    outcome = upstreams.hostile_outcome()
    assert outcome.error is None
    assert outcome.warning and "1 entries over 1000000 bytes were skipped" in outcome.warning
    assert {"Story 1", "Story 3"} <= stored_titles(upstreams.store)
    assert "Story 2" not in stored_titles(upstreams.store)


def test_deeply_nested_html_keeps_its_text_and_stays_fast(upstreams: Upstreams) -> None:
    depth = 30_000
    nested = "&lt;div&gt;" * depth + "Buried sentence." + "&lt;/div&gt;" * depth
    upstreams.hostile = rss(item(1, nested + "&lt;p&gt;After the pile.&lt;/p&gt;"))
    started = time.monotonic()
    outcome = upstreams.hostile_outcome()
    assert outcome.error is None, outcome.error
    article = upstreams.store.find_article("urn:wire:1")
    version = upstreams.store.get_version(article.id, 1)
    assert version.text.split() == ["Buried", "sentence.", "After", "the", "pile."]
    assert version.html.count("<div>") <= 200
    upstreams.served()
    assert time.monotonic() - started < 60  # quadratic nh3 took minutes; not a benchmark


def test_invalid_utf8_is_decoded_and_served_as_valid_xml(upstreams: Upstreams) -> None:
    upstreams.hostile = rss(item(1, "Caf\xe9 owners protest.")).replace(
        b"Caf\xc3\xa9", b"Caf\xe9\xff"
    )
    outcome = upstreams.hostile_outcome()
    assert outcome.error is None
    assert "Story 1" in stored_titles(upstreams.store)
    upstreams.served()


@pytest.mark.parametrize(
    "title",
    [
        "Nul\x00 in the title",
        "Bell\x07 and escape\x1b[31m red",
        "Right-to-left \u202egnp.exe override",
        "Isolate \u2066hidden\u2069 text",
    ],
)
def test_control_characters_and_bidi_overrides_are_dropped_from_titles(
    upstreams: Upstreams, title: str
) -> None:
    # Raw control bytes make the XML malformed: read leniently, like feedparser.
    upstreams.hostile = rss(
        "<item><guid>urn:wire:c</guid><title>"
        + title
        + "</title><description>Body text.</description></item>"
    )
    outcome = upstreams.hostile_outcome()
    assert outcome.error is None
    article = upstreams.store.find_article("urn:wire:c")
    stored = upstreams.store.get_version(article.id, 1).title
    assert not any(
        ord(c) < 32 or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in stored
    )
    entries = upstreams.served().findall(f"{ATOM}entry")
    assert stored in [e.findtext(f"{ATOM}title") for e in entries]


def test_a_feed_that_changes_every_id_on_every_poll_does_not_flood(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any
) -> None:
    up = Upstreams(httpserver, make_settings, store_for, clock, max_new_articles=50)
    polls = iter(range(100))

    def churn() -> bytes:
        n = next(polls)
        return rss("".join(item(i, guid=f"urn:wire:{n}:{i}") for i in range(40)))

    up.hostile = churn
    assert up.hostile_outcome().new_articles == 40
    for _ in range(3):
        clock.advance(900)
        outcome = up.hostile_outcome()
        assert outcome.new_articles == 0
        assert outcome.warning and "40 entries under new ids repeat stored articles" in (
            outcome.warning
        )
    assert up.store.count_articles("wire") == 40 + 1


def test_a_feed_of_ever_new_articles_is_capped_per_poll_and_reported(
    httpserver: HTTPServer, make_settings: Any, store_for: Any, clock: Any
) -> None:
    up = Upstreams(httpserver, make_settings, store_for, clock, max_new_articles=50)
    polls = iter(range(100))

    def spam() -> bytes:
        n = next(polls)
        return rss("".join(item(n * 1000 + i) for i in range(120)))

    up.hostile = spam
    for _ in range(3):
        outcome = up.hostile_outcome()
        assert outcome.new_articles == 50
        assert outcome.warning and "70 new articles over max_new_articles (50)" in outcome.warning
    assert up.store.count_articles("wire") == 3 * 50 + 1


def test_upstream_dates_going_backwards_do_not_reorder_or_lose_revisions(
    upstreams: Upstreams, clock: Any
) -> None:
    def dated(body: str, updated: str, published: str) -> bytes:
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>Wire</title><id>urn:wire</id><updated>2026-03-01T09:00:00Z</updated>"
            "<entry><id>urn:wire:dates</id><title>Council vote</title>"
            f"<updated>{updated}</updated><published>{published}</published>"
            f'<content type="html">{body}</content></entry></feed>'
        ).encode()

    upstreams.content_type = "application/atom+xml"
    upstreams.hostile = dated(
        "The vote is on Monday.", "2026-03-01T09:00:00Z", "2026-03-01T08:00:00Z"
    )
    upstreams.hostile_outcome()
    clock.advance(3600)
    # Revised, but its dates now say 1999 (updated) and 2099 (published).
    upstreams.hostile = dated(
        "The vote is on Monday. It passed 7 to 2.", "1999-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
    )
    assert upstreams.hostile_outcome().new_versions == 1

    article = upstreams.store.find_article("urn:wire:dates")
    assert [v.number for v in upstreams.store.get_versions(article.id)] == [1, 2]
    entries = upstreams.served().findall(f"{ATOM}entry")
    first = entries[0]  # newest update first: ours, not upstream's, clock
    assert first.findtext(f"{ATOM}title") == "Council vote"
    updated = datetime.fromisoformat(first.findtext(f"{ATOM}updated") or "")
    published = datetime.fromisoformat(first.findtext(f"{ATOM}published") or "")
    assert updated == clock().replace(microsecond=0)
    assert published <= updated
    assert published.year == 2026 and published.tzinfo == UTC


def test_a_hostile_source_is_retried_and_recovers(upstreams: Upstreams, clock: Any) -> None:
    upstreams.hostile = BILLION_LAUGHS
    assert upstreams.hostile_outcome().error
    assert upstreams.healthz()["failing"][0]["source"] == upstreams.hostile_url
    upstreams.hostile = rss(item(1))
    assert upstreams.hostile_outcome().new_articles == 1
    assert upstreams.source(upstreams.hostile_url).failures == 0
    assert upstreams.healthz()["failing"] == []


def high_water_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0  # gone already
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@pytest.mark.slow
def test_one_process_survives_every_hostile_input_at_once_in_bounded_memory(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """`feedsvc poll` over all of them together, beside a good feed: one
    summary line, no traceback, the good feed stored, and the process's
    peak memory (the kernel's VmHWM) stays bounded."""
    hostile = {
        "truncated": rss(item(1) + item(2))[:-40],
        "laughs": BILLION_LAUGHS,
        "huge": rss(
            "".join(f"<item><guid>w{i}</guid><title>S{i}</title></item>" for i in range(100_000))
        ),
        "fat": rss(item(1, "&lt;p&gt;Paragraph of a very long story.&lt;/p&gt;" * 110_000)),
        "deep": rss(item(1, "&lt;div&gt;" * 30_000 + "Buried." + "&lt;/div&gt;" * 30_000)),
        "controls": rss(item(1).replace("Story 1", "Nul\x00 bell\x07 \u202eedir")),
        "garbage": b"<rss><<<&&&\x00\x01>>>",
    }
    for name, body in hostile.items():
        httpserver.expect_request(f"/{name}.xml").respond_with_data(
            body, content_type="application/rss+xml"
        )
    httpserver.expect_request("/good.xml").respond_with_data(
        GOOD, content_type="application/rss+xml"
    )
    sources = [httpserver.url_for(f"/{name}.xml") for name in [*hostile, "good"]]
    (tmp_path / "config.toml").write_text(
        '[service]\nbase_url = "http://feeds.test"\n'
        + "".join(
            f'[[feeds]]\nname = "{name}"\nsources = ["{url}"]\n'
            for name, url in zip([*hostile, "good"], sources, strict=True)
        )
    )
    with open(tmp_path / "out", "wb") as out_file, open(tmp_path / "err", "wb") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "poll"],
            cwd=tmp_path,
            env=cli_env(),
            stdout=out_file,
            stderr=err_file,
        )
        # VmHWM is the peak of the child's own memory (getrusage's maxrss
        # would include what this big pytest process had when it forked).
        peak_kib = 0
        while proc.poll() is None:
            peak_kib = max(peak_kib, high_water_kib(proc.pid))
            time.sleep(0.02)
    out, err = (tmp_path / "out").read_bytes(), (tmp_path / "err").read_bytes()
    assert proc.returncode == 1, err.decode()[-2000:]
    # 200 of "huge" (max_new_articles), 1 each of deep, controls and good;
    # truncated, laughs and garbage fail; fat's only entry is skipped.
    assert out.decode().splitlines() == [
        "polled 8 sources: 203 new articles, 203 new versions, 3 errors"
    ]
    assert b"Traceback" not in err
    store = Store(config.load(tmp_path / "config.toml").service.database)
    try:
        assert store.find_article("urn:gazette:ferry").latest_version == 1
    finally:
        store.close()
    assert 0 < peak_kib < 300_000, peak_kib  # about 120 MB measured
