"""A bounded number of exports at once, so slow readers cannot starve the
server.

An export is the one answer that streams for minutes: the server's thread
stays with it until the last line is handed over, and a client reading
1 KB/s holds the thread for hours once the server's output buffer is full.
Eight such readers took every thread, and the feeds timed out. So at most
`[service] max_exports` exports run at once in a process; one more is told
503 with Retry-After at once, and every other thread stays free for feeds
and pages. A reader that stops reading altogether is dropped by the WSGI
server's idle timeout (waitress's channel_timeout, 120 s), which frees its
slot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from flask import Flask, Response, current_app, jsonify

RETRY_AFTER = 30  # seconds: about how long a typical export takes


class ExportSlots:
    def __init__(self, size: int) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(size)

    def stream(self, body: Iterable[bytes], mimetype: str) -> Response:
        """`body` streamed in a slot, or a 503 when every slot is taken. The
        slot is freed when the answer ends, however it ends (finished, the
        client gone, or never started: call_on_close runs in every case)."""
        if not self._free.acquire(blocking=False):
            busy = jsonify(
                error=f"{self.size} exports are running; try again in {RETRY_AFTER} s",
                status=503,
            )
            busy.status_code = 503
            busy.headers["Retry-After"] = str(RETRY_AFTER)
            return busy
        released = threading.Lock()

        def release() -> None:
            if released.acquire(blocking=False):
                self._free.release()

        def lines() -> Iterator[bytes]:
            try:
                yield from body
            finally:
                release()

        response = Response(lines(), mimetype=mimetype)
        response.call_on_close(release)
        return response


def init_app(app: Flask, size: int) -> None:
    app.extensions["feedsvc_exports"] = ExportSlots(size)


def slots() -> ExportSlots:
    value: ExportSlots = current_app.extensions["feedsvc_exports"]
    return value
