"""Renderings cached until the data behind them changes.

A slot (what is rendered: a feed, a page of it, an HTML page) holds one
rendering tagged with the data version it was made from (a feed's change
serial). A request whose version matches gets the stored bytes; any other
version renders afresh and replaces the slot, so stale renderings never
linger and memory is bounded by the number of slots.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime

from werkzeug.http import http_date

try:
    import brotli
except ImportError:  # brotli is optional: gzip alone is fine
    brotli = None

Headers = list[tuple[str, str]]

GZIP_LEVEL = 6
# Quality 11 (the default) takes about a second on a 150 KB feed; 5 is
# within a few percent of its size at a hundredth of the cost.
BROTLI_QUALITY = 5
CODINGS = ("br", "gzip") if brotli is not None else ("gzip",)


def _compress(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(body, GZIP_LEVEL, mtime=0)  # mtime=0: same bytes, same ETag
    assert brotli is not None
    return bytes(brotli.compress(body, quality=BROTLI_QUALITY))


class Rendered:
    """One rendering: its bytes, their strong ETag and each compressed form,
    made the first time a client asks for it and kept for everyone after."""

    __slots__ = (
        "_encoded",
        "_headers",
        "_lock",
        "body",
        "content_type",
        "etag",
        "last_modified",
        "link",
        "modified",
    )

    def __init__(
        self,
        body: bytes,
        content_type: str,
        last_modified: datetime | None,
        *,
        link: str | None = None,
    ) -> None:
        self.body = body
        self.link = link  # a Link header (RFC 8288), e.g. WebSub discovery
        self.content_type = content_type
        # Strong: a hash of the exact bytes, so equal bytes give equal tags
        # on every web node and across restarts.
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self.last_modified = last_modified
        self.modified = http_date(last_modified) if last_modified else None
        self._encoded: dict[str, tuple[bytes, str]] = {}
        self._headers: dict[tuple[str | None, int], tuple[Headers, Headers]] = {}
        self._lock = threading.Lock()

    def encoded(self, coding: str | None) -> tuple[bytes, str]:
        """(body, ETag) of the representation in `coding` (None: identity).
        A compressed representation is different bytes, so it has its own
        strong ETag (RFC 9110 section 8.8.3)."""
        if coding is None:
            return self.body, self.etag
        hit = self._encoded.get(coding)
        if hit is None:
            with self._lock:  # compress once, however many ask at once
                hit = self._encoded.get(coding)
                if hit is None:
                    hit = (_compress(self.body, coding), f'{self.etag[:-1]}-{coding}"')
                    self._encoded[coding] = hit
        return hit

    def headers(self, coding: str | None, max_age: int) -> tuple[Headers, Headers]:
        """The header lists of a 304 and of a 200 in `coding`, made once:
        every poll of a popular feed sends the same ones."""
        key = (coding, max_age)
        hit = self._headers.get(key)
        if hit is None:
            # No Content-Length: werkzeug sets it from the body (for HEAD
            # too), and one set here makes waitress copy the body on its
            # way out (some 70 us of CPU per 200 KB answer in bench/serve.py).
            etag = self.encoded(coding)[1]
            validators = [
                ("ETag", etag),
                ("Cache-Control", f"public, max-age={max_age}"),
                ("Vary", "Accept-Encoding"),
            ]
            entity = list(validators)
            if self.modified is not None:
                entity.append(("Last-Modified", self.modified))
            if coding is not None:
                entity.append(("Content-Encoding", coding))
            if self.link is not None:
                entity.append(("Link", self.link))
            hit = self._headers[key] = (validators, entity)
        return hit


class RenderCache:
    """slot -> (version, Rendered). Past `size` slots, the one rendered
    longest ago goes (hits do not reorder: they take no lock)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[Hashable, Rendered]] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering: dict[Hashable, threading.Lock] = {}

    def lookup(self, slot: Hashable, version: Hashable) -> Rendered | None:
        item = self._items.get(slot)  # a dict read is atomic; no lock needed
        if item is not None and item[0] == version:
            return item[1]
        return None

    def get(
        self, slot: Hashable, version: Hashable, render: Callable[[], Rendered | None]
    ) -> Rendered | None:
        """The rendering of `slot` at `version`, rendering it on a miss.
        Concurrent misses of one slot render once; the others wait for it.
        `render` returning None means "not cacheable" (nothing is stored)."""
        hit = self.lookup(slot, version)
        if hit is not None:
            return hit
        with self._lock:
            guard = self._rendering.setdefault(slot, threading.Lock())
        try:
            with guard:
                hit = self.lookup(slot, version)  # rendered while we waited
                if hit is not None:
                    return hit
                item = render()
                if item is not None:
                    with self._lock:
                        self._items[slot] = (version, item)
                        self._items.move_to_end(slot)
                        while len(self._items) > self.size:
                            self._items.popitem(last=False)
                return item
        finally:
            with self._lock:
                # A thread that already holds this guard still waits on it;
                # one arriving after this may render the slot again: harmless.
                self._rendering.pop(slot, None)
