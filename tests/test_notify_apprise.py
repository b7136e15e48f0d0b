"""Apprise for real: json:// and form:// against a local receiver, mailto://
against a local SMTP server. The message carries the headline change and
the changed paragraphs as a word diff, cut to the channel's limits."""

from __future__ import annotations

import email
import socket
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller

from feedsvc.config import NotifySettings
from feedsvc.links import Links
from feedsvc.notify.message import Renderer, context, sample_change
from tests.harness import FakeClock
from tests.notifying import FERRIES, LEAD, MONTH, Desk, Receiver


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def story(desk: Desk) -> None:
    desk.write("bridge", "Harbour bridge closed", LEAD, FERRIES)
    desk.poll()
    desk.write("bridge", "Harbour bridge closed for a month", LEAD, MONTH, FERRIES)
    desk.poll()


def test_json_and_form_urls_get_the_headline_change_and_the_diff(
    tmp_path: Path, db_url: str, clock: FakeClock, receiver: Receiver
) -> None:
    urls = [
        f"json://127.0.0.1:{receiver.server.server_port}/json",
        f"form://127.0.0.1:{receiver.server.server_port}/form",
    ]
    desk = Desk(tmp_path, db_url, clock, [{"name": "apps", "urls": urls}])
    try:
        story(desk)
        attempts = desk.deliverer.deliver_due()
    finally:
        desk.close()

    assert sorted((a.row.channel, a.state) for a in attempts) == [(0, "done"), (1, "done")]
    by_path = {r.path: r for r in receiver.received}
    sent = by_path["/json"].json()
    form = {k: v[0] for k, v in parse_qs(by_path["/form"].body.decode()).items()}
    for got in (sent, form):
        assert got["title"] == "Headline changed: Harbour bridge closed for a month"
        body = got["message"]
        assert "- Harbour bridge closed\n+ Harbour bridge closed for a month" in body
        assert "{+On Wednesday the city said two more cracks" in body
        assert "Full diff: http://feeds.test/articles/" in body and body.endswith("/diff/1...2")


def test_mailto_delivers_an_html_mail_with_the_headline_change_and_the_diff(
    tmp_path: Path, db_url: str, clock: FakeClock, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=feedsvc@example.org&to=desk@example.org&mode=insecure"
    desk = Desk(tmp_path, db_url, clock, [{"name": "mail", "urls": [url]}])
    try:
        story(desk)
        [attempt] = desk.deliverer.deliver_due()
    finally:
        desk.close()

    assert attempt.state == "done", attempt.result
    deadline = time.monotonic() + 5
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    [mail] = inbox.messages
    assert mail["To"].endswith("desk@example.org")
    assert mail["Subject"] == "Headline changed: Harbour bridge closed for a month"
    parts = [p for p in mail.walk() if p.get_content_type() == "text/html"]
    html = parts[0].get_payload(decode=True).decode()
    assert "<del" in html and ">Harbour bridge closed</del>" in html
    assert ">Harbour bridge closed for a month</ins>" in html
    assert ">On Wednesday the city said two more cracks had been found" in html
    assert "/diff/1...2" in html


def test_a_message_is_cut_to_the_channel_limit_and_keeps_the_link() -> None:
    change = sample_change("news", FakeClock()())
    renderer = Renderer(NotifySettings("chat"))
    ctx = context(change, Links("http://feeds.test"))
    full = renderer.body(ctx, "text")
    assert "{+Four crews brought the fire under control by 8am.+}" in full

    cut = renderer.body(ctx, "text", limit=len(full) - 10)
    assert len(cut) <= len(full) - 10
    assert "more changed paragraph" in cut
    assert cut.endswith("/diff/1...2")

    tiny = renderer.body(ctx, "text", limit=80)
    assert len(tiny) <= 80 and tiny.endswith("/diff/1...2")


def test_a_target_can_bring_its_own_templates(tmp_path: Path) -> None:
    template = tmp_path / "short.txt.j2"
    template.write_text(
        "{{ feed }} v{{ version.number }} {{ version.change_class }} "
        "+{{ words_added }}/-{{ words_removed }}{% for p in paragraphs %} | {{ p.text }}{% endfor %}"
    )
    target = NotifySettings(
        "chat", text_template=str(template), title_template="{{ headline.new }}!"
    )
    renderer = Renderer(target)
    ctx = context(sample_change("news", FakeClock()()), Links("http://feeds.test"))
    assert renderer.title(ctx) == "Dock Road warehouse fire under control!"
    assert renderer.body(ctx, "text").startswith("news v2 edit +")
