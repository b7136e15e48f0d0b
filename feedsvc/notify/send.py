"""The only senders: a webhook POST signed as Standard Webhooks says, and
Apprise for everything else (no channel client is written here).

A send returns a Result and never raises: the delivery job decides what a
failure means (retry with backoff, Retry-After, give up)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from feedsvc.config import Secret
from feedsvc.notify.targets import secret_key

log = logging.getLogger("feedsvc.notify")


@dataclass(frozen=True)
class Result:
    ok: bool
    status: int | None = None  # HTTP status, for webhooks
    error: str | None = None  # one line, no secrets
    retry_after: float | None = None  # seconds the receiver asked us to wait


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """webhook-signature: v1, then base64 of HMAC-SHA256 over id.timestamp.body."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class WebhookSender:
    def __init__(self, user_agent: str, timeout: float) -> None:
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": user_agent},
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def send(self, url: Secret, secret: Secret, msg_id: str, body: bytes, now: datetime) -> Result:
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret_key(secret), msg_id, timestamp, body),
        }
        try:
            response = self.client.post(url.reveal(), content=body, headers=headers)
        except httpx.TimeoutException:
            return Result(False, error="timed out")
        except httpx.HTTPError as exc:
            return Result(False, error=f"{type(exc).__name__}: {_one_line(str(exc))}")
        status = response.status_code
        if 200 <= status < 300:
            return Result(True, status)
        wait = None
        if status in (429, 503):
            wait = retry_after(response.headers.get("Retry-After"), now)
        return Result(False, status, f"HTTP {status} {response.reason_phrase}".strip(), wait)


def apprise_plugin(url: Secret) -> Any:
    """Apprise's plugin for a URL, or None if Apprise does not understand it."""
    import apprise

    return apprise.Apprise.instantiate(url.reveal(), suppress_exceptions=True)


def preferred_format(plugin: Any) -> str:
    """ "html" for channels whose native format is HTML (e-mail, Telegram),
    else "text"."""
    formats = plugin.notify_format
    first = formats[0] if isinstance(formats, list | tuple) else formats
    return "html" if str(getattr(first, "value", first)) == "html" else "text"


def limits(plugin: Any) -> tuple[int, int]:
    """(title, body) character limits of a channel; a title limit of 0 means
    the channel has no title and Apprise puts it in the body."""
    return int(plugin.title_maxlen or 0), int(plugin.body_maxlen or 0)


class AppriseSender:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def send(self, url: Secret, title: str, body: str, fmt: str) -> Result:
        import apprise

        plugin = apprise_plugin(url)
        if plugin is None:
            return Result(False, error="Apprise does not understand this URL")
        for attr in ("socket_connect_timeout", "socket_read_timeout", "timeout"):
            if isinstance(getattr(plugin, attr, None), int | float):
                setattr(plugin, attr, self.timeout)
        sender = apprise.Apprise()
        sender.add(plugin)
        body_format = apprise.NotifyFormat.HTML if fmt == "html" else apprise.NotifyFormat.TEXT
        try:
            with apprise.LogCapture(level=logging.WARNING) as captured:
                ok = sender.notify(body=body, title=title, body_format=body_format)
                said = captured.getvalue()
        except Exception as exc:  # a plugin bug must not kill the delivery job
            return Result(False, error=f"{type(exc).__name__}: {_one_line(str(exc))}")
        if ok:
            return Result(True)
        lines = [line for line in str(said).splitlines() if line.strip()]
        return Result(False, error=_one_line(lines[-1]) if lines else "Apprise could not send")


def _one_line(text: str, limit: int = 500) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
