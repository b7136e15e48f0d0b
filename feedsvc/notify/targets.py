"""Validate one [[notify]] table at start, like every other setting: a
mistake is one line naming the key, and never shows a secret."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedsvc.config import NotifySettings, Secret
from feedsvc.errors import ConfigError

SECRET_PREFIX = "whsec_"


def secret_key(secret: Secret) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`,
    decoded (24 to 64 bytes). Raises ValueError saying what is wrong, without
    the secret."""
    text = secret.reveal()
    if not text.startswith(SECRET_PREFIX):
        raise ValueError(
            "must start with whsec_ (Standard Webhooks), e.g. whsec_ and base64 of 32 random bytes"
        )
    try:
        key = base64.b64decode(text[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after whsec_ is not base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"must hold 24 to 64 bytes after whsec_, not {len(key)}")
    return key


def check_target(
    values: dict[str, Any],
    base_dir: Path,
    prefix: str,
    fail: Callable[[str, str], ConfigError],
) -> NotifySettings:
    urls: tuple[Secret, ...] = values["urls"]
    webhook: Secret | None = values["webhook"]
    secret: Secret | None = values["secret"]
    if bool(urls) == bool(webhook):
        raise fail(prefix, 'give either urls = [...] (Apprise) or webhook = "https://..."')
    if webhook is not None:
        parts = urlsplit(webhook.reveal())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise fail(f"{prefix}.webhook", "is not an http(s) URL")
        if secret is None:
            raise fail(
                f"{prefix}.secret", "required with webhook (whsec_ and base64 of 24 to 64 bytes)"
            )
        try:
            secret_key(secret)
        except ValueError as exc:
            raise fail(f"{prefix}.secret", str(exc)) from None
    elif secret is not None:
        raise fail(
            f"{prefix}.secret", "only a webhook is signed; Apprise URLs carry their own keys"
        )
    for k, url in enumerate(urls):
        _check_apprise(url, f"{prefix}.urls[{k}]", fail)
    if values["include_first_version"] and "initial" not in values["classes"]:
        values["classes"] = ("initial", *values["classes"])
    for key in ("text_template", "html_template"):
        if values[key] is not None:
            values[key] = _template_file(values[key], base_dir, f"{prefix}.{key}", fail)
    if values["title_template"] is not None:
        _compile(values["title_template"], f"{prefix}.title_template", fail)
    return NotifySettings(**values)


def _check_apprise(url: Secret, key: str, fail: Callable[[str, str], ConfigError]) -> None:
    from feedsvc.notify.send import apprise_plugin

    scheme = url.reveal().partition("://")[0]
    # Apprise logs the URL it could not parse (a password half-masked):
    # our one line says it without the URL.
    apprise_log = logging.getLogger("apprise")
    was = apprise_log.disabled
    apprise_log.disabled = True
    try:
        plugin = apprise_plugin(url)
    finally:
        apprise_log.disabled = was
    if plugin is None:
        raise fail(
            key, f"Apprise does not understand this {scheme}:// URL (see its wiki for the form)"
        )


def _template_file(
    value: str, base_dir: Path, key: str, fail: Callable[[str, str], ConfigError]
) -> str:
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(key, f"cannot read {value!r}: {getattr(exc, 'strerror', None) or exc}") from None
    _compile(text, key, fail)
    return str(path.resolve())


def _compile(text: str, key: str, fail: Callable[[str, str], ConfigError]) -> None:
    import jinja2

    try:
        jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise fail(key, f"not a valid Jinja template: line {exc.lineno}: {exc.message}") from None
