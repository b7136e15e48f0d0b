"""Renderings cached until the data behind them changes."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Rendered:
    body: bytes
    mimetype: str
    etag: str  # strong: a hash of the exact bytes
    last_modified: datetime | None


class RenderCache:
    """key -> Rendered, where the key includes the data's version (a feed's
    change serial), so a change makes a new key and old ones age out."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        render: Callable[[], bytes],
        mimetype: str,
        last_modified: datetime | None,
    ) -> Rendered:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        body = render()  # outside the lock: a slow render blocks no other feed
        item = Rendered(body, mimetype, hashlib.sha256(body).hexdigest()[:32], last_modified)
        with self._lock:
            self._items[key] = item
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return item
