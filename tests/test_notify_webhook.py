"""Webhooks: one signed POST per new version that a target's rules match,
sent from the outbox apart from polling, retried with backoff (429
Retry-After honoured), the same webhook id every time, given up in the end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from tests.harness import FakeClock
from tests.notifying import FERRIES, LEAD, MONTH, SECRET, Desk, Receiver, event_validator


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def real_clock() -> FakeClock:
    # Standard Webhooks verifiers refuse timestamps far from their own clock.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def desk(tmp_path: Path, db_url: str, real_clock: FakeClock, receiver: Receiver) -> Iterator[Desk]:
    d = Desk(
        tmp_path,
        db_url,
        real_clock,
        [{"name": "desk", "webhook": receiver.url + "/hook", "secret": SECRET}],
        delivery={"first_retry": "5s", "max_retry": "1h", "give_up_after": "1h"},
    )
    yield d
    d.close()


def edit_story(desk: Desk) -> None:
    desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES)
    desk.poll()
    desk.write("bridge", "Harbour bridge closed for a month", LEAD, MONTH, FERRIES)
    desk.poll()


def test_a_new_version_is_posted_signed_with_its_diff(desk: Desk, receiver: Receiver) -> None:
    edit_story(desk)
    assert receiver.received == [], "nothing is sent inside a poll"

    attempts = desk.deliverer.deliver_due()

    assert [a.state for a in attempts] == ["done"]
    [got] = receiver.received
    # The Standard Webhooks reference library accepts it, and so does the
    # algorithm written out: HMAC-SHA256(key, id.timestamp.body), base64.
    event = Webhook(SECRET).verify(got.body, got.headers)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{got.headers['Webhook-Id']}.{got.headers['Webhook-Timestamp']}.".encode() + got.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert got.headers["Webhook-Signature"] == f"v1,{expected}"
    assert got.headers["Content-Type"] == "application/json"

    event_validator()(event)
    data = event["data"]
    assert event["type"] == "article.version"
    assert data["version"]["number"] == 2 and data["previous"]["number"] == 1
    assert data["diff"]["title"] == {
        "changed": True,
        "old": "Harbour bridge closed",
        "new": "Harbour bridge closed for a month",
        "ops": data["diff"]["title"]["ops"],
    }
    inserted = " ".join(
        op["new_text"]
        for p in data["diff"]["paragraphs"]
        for op in p["ops"]
        if op["kind"] == "insert"
    )
    assert inserted == MONTH
    assert data["diff"]["words_added"] == len(MONTH.split())  # the headline counts apart
    assert data["links"]["diff"] == f"http://feeds.test/articles/{data['article']['id']}/diff/1...2"


def test_a_webhook_is_not_signed_with_another_secret(desk: Desk, receiver: Receiver) -> None:
    edit_story(desk)
    desk.deliverer.deliver_due()
    [got] = receiver.received
    other = "whsec_" + base64.b64encode(b"another-secret-of-thirty-two-by").decode()
    with pytest.raises(Exception, match="match"):
        Webhook(other).verify(got.body, got.headers)


def test_two_failures_then_success_is_one_delivery_of_three_attempts(
    desk: Desk, receiver: Receiver, real_clock: FakeClock
) -> None:
    receiver.script = [(500, {}), (500, {})]
    edit_story(desk)

    first = desk.deliverer.deliver_due()
    assert [a.state for a in first] == ["pending"]
    first_delay = (first[0].next_attempt_at - real_clock()).total_seconds()
    assert 4 <= first_delay <= 6
    assert desk.deliverer.deliver_due() == [], "not due before its retry time"

    real_clock.advance(first_delay)
    second = desk.deliverer.deliver_due()
    assert [a.state for a in second] == ["pending"]
    second_delay = (second[0].next_attempt_at - real_clock()).total_seconds()
    assert 8 <= second_delay <= 12 and second_delay > first_delay

    real_clock.advance(second_delay)
    assert [a.state for a in desk.deliverer.deliver_due()] == ["done"]
    real_clock.advance(3600)
    assert desk.deliverer.deliver_due() == []

    [row] = desk.rows()
    assert (row.state, row.attempts, row.last_status) == ("done", 3, 200)
    assert len(receiver.received) == 3
    assert len({r.headers["Webhook-Id"] for r in receiver.received}) == 1
    # Each try is signed anew for its own timestamp.
    for got in receiver.received:
        Webhook(SECRET).verify(got.body, got.headers)


def test_429_retry_after_is_honoured(desk: Desk, receiver: Receiver, real_clock: FakeClock) -> None:
    receiver.script = [(429, {"Retry-After": "120"})]
    edit_story(desk)

    [attempt] = desk.deliverer.deliver_due()
    assert attempt.state == "pending"
    assert (attempt.next_attempt_at - real_clock()).total_seconds() == 120

    real_clock.advance(60)  # the backoff alone would have retried by now
    assert desk.deliverer.deliver_due() == []
    real_clock.advance(60)
    assert [a.state for a in desk.deliverer.deliver_due()] == ["done"]
    assert len(receiver.received) == 2


def test_a_target_failing_past_give_up_after_is_failed_with_its_last_error(
    desk: Desk, receiver: Receiver, real_clock: FakeClock
) -> None:
    receiver.script = [(503, {})] * 50
    edit_story(desk)
    for _ in range(30):
        desk.deliverer.deliver_due()
        real_clock.advance(600)
    [row] = desk.rows()
    assert row.state == "failed"
    assert row.last_error == "HTTP 503 SERVICE UNAVAILABLE"
    # first_retry 5s doubling to max_retry: tries at 0, 5, 15, 35, ... until 1h passed
    assert 6 <= row.attempts <= 12

    client = desk.app_client()
    [failing] = client.get("/healthz").get_json()["notify_failing"]
    assert (failing["target"], failing["failed"], failing["last_error"]) == (
        "desk",
        1,
        "HTTP 503 SERVICE UNAVAILABLE",
    )
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'feedsvc_notify_failed_total{target="desk"} 1' in metrics
    assert f'feedsvc_notify_retries_total{{target="desk"}} {row.attempts - 1}' in metrics
    assert 'feedsvc_notify_delivered_total{target="desk"} 0' in metrics


def test_delivered_messages_are_counted_and_nothing_is_failing(
    desk: Desk, receiver: Receiver, real_clock: FakeClock
) -> None:
    receiver.script = [(500, {})]
    edit_story(desk)
    desk.deliverer.deliver_due()
    real_clock.advance(10)
    desk.deliverer.deliver_due()

    client = desk.app_client()
    assert client.get("/healthz").get_json()["notify_failing"] == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'feedsvc_notify_delivered_total{target="desk"} 1' in metrics
    assert 'feedsvc_notify_retries_total{target="desk"} 1' in metrics
    assert 'feedsvc_notify_pending{target="desk"} 0' in metrics


def test_the_outbox_row_is_written_with_the_version(desk: Desk) -> None:
    edit_story(desk)
    [row] = desk.rows()
    versions = desk.store.get_versions(row.article_id)
    assert (row.version, row.state, row.attempts) == (2, "pending", 0)
    assert row.created_at == versions[-1].seen_at


@pytest.mark.slow
def test_a_hung_target_delays_neither_polling_nor_the_other_targets(
    tmp_path: Path, db_url: str, real_clock: FakeClock
) -> None:
    from feedsvc.notify.delivery import DeliveryLoop

    hung, fast = Receiver(delay=4.0), Receiver()
    desk = Desk(
        tmp_path,
        db_url,
        real_clock,
        [
            {"name": "hung", "webhook": hung.url + "/hook", "secret": SECRET},
            {"name": "fast", "webhook": fast.url + "/hook", "secret": SECRET},
        ],
        delivery={"timeout": "3s"},
    )
    loop = DeliveryLoop(desk.deliverer, tick=0.1)
    try:
        loop.start()
        desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES)
        desk.poll()
        for n in range(3):
            desk.write("bridge", f"Harbour bridge closed ({n})", LEAD, FERRIES)
            started = time.monotonic()
            desk.poll()
            assert time.monotonic() - started < 2.5, "a poll waited for a send"
            fast.wait_for(n + 1, timeout=2.5)
        assert len(hung.received) == 1, "the hung target is still on its first message"
    finally:
        loop.stop()
        desk.store.close()
        hung.close()
        fast.close()
