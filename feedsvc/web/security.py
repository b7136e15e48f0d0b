"""Security headers on every answer, and the admin token's check.

Every HTML page carries a Content-Security-Policy that forbids script of
any kind (no script-src, so default-src 'none' applies), plugins, framing
(frame-ancestors 'none', and X-Frame-Options for older browsers) and
<base> tricks; styles come from our own stylesheet or inline (upstream
style attributes are reduced to harmless properties by text.sanitize_html
first). Every answer says nosniff and no-referrer: a reader following a
link to the original article does not tell the upstream where it came from.

The headers are added by a WSGI wrapper that looks at the status line's
headers only, so the feed hot path pays a short loop and nothing else.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from flask import Flask, request

CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' http: https:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
EVERY_ANSWER = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]
HTML_ANSWER = [
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
]


def _is_html(headers: Iterable[tuple[str, str]]) -> bool:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.startswith("text/html")
    return False


def init_app(app: Flask) -> None:
    inner = app.wsgi_app

    def secured(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = headers + EVERY_ANSWER
            if _is_html(headers):
                headers += HTML_ANSWER
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = secured  # type: ignore[method-assign]


def is_admin(token: str | None) -> bool:
    """Whether this request carries `Authorization: Bearer TOKEN` with the
    configured admin token (compared in constant time). With no token
    configured nobody is an admin: callers decide what that means."""
    if not token:
        return False
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), token.encode()
    )
