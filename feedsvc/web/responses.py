"""HTTP answers from cached renderings, with caching done to the letter of
RFC 9110: strong ETags, Last-Modified, If-None-Match before
If-Modified-Since, 304s that carry ETag, Cache-Control and Vary, HEAD, and
gzip or brotli when the client asks for it.

Views use one of two things:
- `@cached()` on a view that returns a page (str, bytes or a Response): it
  runs only when the data behind it changed; every other request is served
  from the bytes it made last time.
- `send(rendered)` when the view builds its own Rendered (the feeds do,
  because they know exactly which feed they depend on).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from functools import lru_cache, wraps
from typing import Any, TypeVar

from flask import Response, current_app, request
from werkzeug.http import parse_date

from feedsvc.storage.serials import as_utc
from feedsvc.web.cache import CODINGS, Rendered

F = TypeVar("F", bound=Callable[..., Any])

# Below this, compressing saves less than the Content-Encoding header costs.
MIN_COMPRESS = 256


@lru_cache(maxsize=512)
def choose_coding(accept_encoding: str) -> str | None:
    """The content coding to send for an Accept-Encoding header: the one
    with the highest q among those we make (brotli wins ties), or None for
    the identity. A few dozen distinct headers cover every real client,
    hence the cache."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name.strip()] = q
    if "x-gzip" in weights and "gzip" not in weights:
        weights["gzip"] = weights["x-gzip"]
    star = weights.get("*", 0.0)
    best, best_q = None, 0.0
    for coding in CODINGS:
        q = weights.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    return best


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 section 13.1.2)."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def not_modified(etag: str, last_modified: datetime | None) -> bool:
    """Whether the client's copy is current. If-None-Match, when present,
    decides alone; otherwise If-Modified-Since is compared as "not newer
    than", so a reader that sends a date of its own making (rather than
    echoing ours) is still answered 304."""
    environ = request.environ  # plain dict lookups: this runs on every request
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
        return False
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        return _etag_matches(inm, etag)
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims is None or last_modified is None:
        return False
    since = parse_date(ims)
    return since is not None and last_modified.replace(microsecond=0) <= since


def send(rendered: Rendered, max_age: int | None = None) -> Response:
    """The answer to this request from a rendering: 200 in the coding the
    client prefers, or 304. HEAD gets the same headers without the body."""
    if max_age is None:
        max_age = current_app.extensions["feedsvc"].settings.service.cache_max_age
    coding = None
    if len(rendered.body) >= MIN_COMPRESS:
        accept = request.environ.get("HTTP_ACCEPT_ENCODING")
        if accept:
            coding = choose_coding(accept)
    body, etag = rendered.encoded(coding)
    validators, entity = rendered.headers(coding, max_age)
    if not_modified(etag, rendered.last_modified):
        # RFC 9110 section 15.4.5: no body, and of the headers only those
        # that update the client's stored copy. Flask's default
        # Content-Type is dropped by werkzeug for a 304.
        return Response(status=304, headers=validators)
    return Response(body, status=200, headers=entity, content_type=rendered.content_type)


def cached(scope: Callable[..., str | None] | None = None) -> Callable[[F], F]:
    """Serve a view from the render cache with full HTTP caching.

    `scope(**view_args)` names the feed whose data the page shows; None (or
    no scope) means it may show any feed's. The view runs again only when
    that data changed (feed_state's serial, read once per request); every
    other request gets the bytes it made last time. Only 200 answers are
    cached; anything else the view returns passes through untouched, and
    an exception it raises (NotFound, abort(400)) reaches the error
    handlers as usual. Of the headers a view sets, only Content-Type is
    kept: the rest are the caching headers this decorator makes.

        @bp.get("/articles/<aid>")
        @cached()
        def article(aid: str) -> str: ...
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            from feedsvc.web import state

            st = state()
            feed = scope(**kwargs) if scope is not None else None
            serial, changed_at = st.store.serials.read(feed)
            slot: Hashable = (request.endpoint, request.path, request.query_string)
            passthrough: list[Response] = []

            def render() -> Rendered | None:
                response = current_app.make_response(view(**kwargs))
                if response.status_code != 200 or response.is_streamed:
                    passthrough.append(response)
                    return None
                return Rendered(response.get_data(), response.content_type, as_utc(changed_at))

            rendered = st.cache.get(slot, (feed, serial), render)
            if rendered is None:
                return passthrough[0]
            return send(rendered)

        return wrapper  # type: ignore[return-value]

    return decorate
