"""Helpers for the notification tests: a newsroom whose config has
[[notify]] targets, and a webhook receiver (a real HTTP server on
127.0.0.1) that answers from a script and records what it got."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from feedsvc import config, notify
from feedsvc.config import Settings
from feedsvc.notify.delivery import Deliverer
from feedsvc.storage import Store
from feedsvc.storage.outbox import OutboxRow
from feedsvc.update import Updater
from feedsvc.web import create_app
from feedsvc.web.openapi import document
from tests.harness import FakeClock, toml_value

SECRET = "whsec_" + base64.b64encode(b"feedsvc-test-secret-32-bytes-ok!").decode()

LEAD = (
    "Engineers closed the Harbour Bridge early on Tuesday after an overnight inspection "
    "found cracks in a steel beam of the main span."
)
FERRIES = "Ferries will run every ten minutes in both directions until further notice."
MONTH = (
    "On Wednesday the city said two more cracks had been found and that the bridge would "
    "stay closed for at least a month while a temporary support is built."
)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str
    at: float  # time.monotonic()

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1. `script` answers requests in turn
    ((status, headers) or a callable given the request); once it runs out,
    every answer is 200."""

    script: list[Any] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    delay: float = 0.0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        got = Received(dict(request.headers), request.get_data(), request.path, time.monotonic())
        with self.lock:
            self.received.append(got)
            step = self.script.pop(0) if self.script else (200, {})
        if callable(step):
            step = step(got)
        if self.delay:
            time.sleep(self.delay)
        status, headers = step
        return Response("ok" if status < 300 else "no", status=status, headers=headers)(
            environ, start_response
        )

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} requests, got {len(self.received)}")

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()


def toml_config(
    db_url: str,
    folder: Path,
    targets: list[dict[str, Any]],
    *,
    scheduler: dict[str, Any] | None = None,
    delivery: dict[str, Any] | None = None,
    service: dict[str, Any] | None = None,
) -> str:
    sections: dict[str, dict[str, Any]] = {
        "service": {"base_url": "http://feeds.test", "database": db_url, **(service or {})},
        "scheduler": {"interval": "15m", **(scheduler or {})},
        "delivery": {**(delivery or {})},
    }
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {toml_value(v)}" for k, v in values.items())
        lines.append("")
    lines += ["[[feeds]]", 'name = "news"', f"sources = [{toml_value(str(folder))}]", ""]
    for target in targets:
        lines.append("[[notify]]")
        lines.extend(f"{k} = {toml_value(v)}" for k, v in target.items())
        lines.append("")
    return "\n".join(lines)


class Desk:
    """A local folder of articles polled into a store whose versions write
    the outbox, and a Deliverer on the same hand-moved clock."""

    def __init__(
        self,
        tmp_path: Path,
        db_url: str,
        clock: FakeClock,
        targets: list[dict[str, Any]],
        **sections: Any,
    ) -> None:
        self.folder = tmp_path / "articles"
        self.folder.mkdir(exist_ok=True)
        self.path = tmp_path / "config.toml"
        self.path.write_text(toml_config(db_url, self.folder, targets, **sections))
        self.settings: Settings = config.load(self.path)
        self.clock = clock
        self.store = Store(self.settings.service.database)
        notify.install(self.store, self.settings)
        self.store.sync_sources(self.settings.feeds, clock())
        self.updater = Updater(self.settings, self.store, clock=clock)
        import random

        self.deliverer = Deliverer(self.settings, self.store, clock=clock, rng=random.Random(7))

    def write(self, slug: str, title: str, *paragraphs: str) -> None:
        body = "\n\n".join(paragraphs)
        (self.folder / f"{slug}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")

    def poll(self, advance: float = 60) -> None:
        self.clock.advance(advance)
        outcomes = self.updater.poll("test", due_only=False)
        assert [o.error for o in outcomes] == [None]

    def rows(self, states: tuple[str, ...] = ("pending", "done", "failed")) -> list[OutboxRow]:
        return self.store.list_messages(states=states)

    def app_client(self) -> Any:
        return create_app(self.settings, self.store).test_client()

    def close(self) -> None:
        self.deliverer.close()
        self.updater.close()
        self.store.close()


def event_validator() -> Callable[[Any], None]:
    """Validates a webhook body against the OpenAPI document's `webhooks`."""
    doc = document("http://feeds.test")
    schema = doc["webhooks"]["articleVersion"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    registry = Registry().with_resource(
        "urn:api", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    validator = jsonschema.Draft202012Validator(
        {"$ref": "urn:api" + schema["$ref"]},
        registry=registry,
        format_checker=jsonschema.FormatChecker(),
    )
    return validator.validate


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
