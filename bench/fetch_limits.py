"""How much memory and time a hostile body costs the fetcher.

Serves gzip bombs and an endless body from a local server and reads each
one twice: the way a plain httpx client does (iter_bytes, with the cap
checked after each decoded chunk, which is what feedsvc did at first) and
with feedsvc's Fetcher. Prints a table of traced peak memory and wall time.

    python bench/fetch_limits.py [--cap BYTES]

Nothing here is asserted: tests/test_politeness.py holds the limits.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import struct
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from multiprocessing import Queue
from pathlib import Path

import httpx
from werkzeug import Request, Response
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedsvc.errors import FetchError
from feedsvc.fetch import Fetcher


def gzip_bomb(mib: int) -> bytes:
    """`mib` MiB of zeros as one gzip member (see tests/test_politeness.py)."""
    block = b"\0" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = c.compress(block) + c.flush(zlib.Z_SYNC_FLUSH)
    steady = c.compress(block) + c.flush(zlib.Z_SYNC_FLUSH)
    end = c.flush()[:-8]
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return head + steady * (mib - 1) + end + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)


def _serve(bodies: dict[str, bytes], port: Queue[int]) -> None:
    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/endless":

            def endless() -> Iterator[bytes]:
                while True:
                    yield b"flood " * 10_000

            return Response(endless(), content_type="text/html")
        return Response(
            bodies[request.path], content_type="text/html", headers={"Content-Encoding": "gzip"}
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    port.put(server.socket.getsockname()[1])
    server.serve_forever()


def serve(bodies: dict[str, bytes]) -> tuple[str, Callable[[], None]]:
    """The upstream runs in its own process, so that the traced memory is
    the reader's alone."""
    port: Queue[int] = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_serve, args=(bodies, port), daemon=True)
    proc.start()
    return f"http://127.0.0.1:{port.get(timeout=30)}", proc.terminate


def plain_httpx(url: str, cap: int) -> str:
    with httpx.Client() as client, client.stream("GET", url) as resp:
        size = 0
        for chunk in resp.iter_bytes(65536):
            size += len(chunk)
            if size > cap:
                return "cut at cap"
    return "read whole"


def feedsvc_fetcher(url: str, cap: int) -> str:
    f = Fetcher("feedsvc-bench", max_bytes=cap)
    try:
        f.get(url)
    except FetchError as exc:
        return "cut at cap" if "limit" in str(exc) else str(exc)
    finally:
        f.close()
    return "read whole"


def measure(read: Callable[[str, int], str], url: str, cap: int) -> tuple[str, float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        outcome = read(url, cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak / 1e6, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=10_000_000, help="[fetch] max_bytes")
    cap = parser.parse_args().cap
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    bodies = {f"/bomb-{mib}": gzip_bomb(mib) for mib in (100, 1024)}
    base, stop = serve(bodies)
    rows = []
    try:
        for path in [*bodies, "/endless"]:
            wire = len(bodies[path]) if path in bodies else None
            for name, read in (
                ("httpx iter_bytes", plain_httpx),
                ("feedsvc Fetcher", feedsvc_fetcher),
            ):
                outcome, peak, seconds = measure(read, base + path, cap)
                rows.append((path, wire, name, outcome, peak, seconds))
    finally:
        stop()
    print(f"cap (max_bytes) = {cap:,} bytes\n")
    print("| body | on the wire | reader | outcome | peak traced MB | seconds |")
    print("| --- | ---: | --- | --- | ---: | ---: |")
    for path, wire, name, outcome, peak, seconds in rows:
        size = f"{wire:,} B" if wire else "endless"
        print(f"| {path[1:]} | {size} | {name} | {outcome} | {peak:.1f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
