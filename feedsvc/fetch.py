"""The only HTTP client: conditional GET, limits, politeness.

`Fetcher.get` returns a FetchResult (a 304 is an ordinary result) or raises
FetchError with one line saying what went wrong and, where the server said
so, when to come back (Retry-After) or that the resource is gone (410).
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from feedsvc.errors import FetchError
from feedsvc.models import FetchResult

MAX_REDIRECTS = 10
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    """One shared client for every HTTP source of a process."""

    def __init__(
        self,
        user_agent: str,
        *,
        timeout: float = 30.0,
        max_bytes: int = 10_000_000,
        per_host: int = 2,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.per_host = per_host
        self.clock = clock
        self._client = httpx.Client(
            headers={
                "User-Agent": user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
        )
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(self.per_host)
            return self._hosts[host]

    def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url`, following redirects, with the stored validators echoed
        byte for byte. 301/308 on every hop is reported as `permanent_url`."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        permanent: str | None = None
        all_permanent = True
        seen = {url}
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(current).scheme not in ("http", "https"):
                raise FetchError(f"refusing to fetch {current!r}: not an http(s) URL")
            status, resp_headers, body = self._get_once(current, headers)
            if status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                target = urljoin(current, resp_headers["location"])
                if target in seen:
                    raise FetchError(f"redirect loop at {target}", status=status)
                seen.add(target)
                all_permanent = all_permanent and status in (301, 308)
                if all_permanent:
                    permanent = target
                current = target
                continue
            return self._result(current, status, resp_headers, body, permanent)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _get_once(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._host_slot(url):
            try:
                with self._client.stream("GET", url, headers=headers) as resp:
                    lowered = {k.lower(): v for k, v in resp.headers.items()}
                    if resp.status_code != 200:
                        return resp.status_code, lowered, b""
                    declared = lowered.get("content-length", "")
                    if declared.isdigit() and int(declared) > self.max_bytes:
                        raise FetchError(
                            f"{url}: body of {declared} bytes is over the "
                            f"{self.max_bytes}-byte limit",
                            status=200,
                        )
                    chunks: list[bytes] = []
                    size = 0
                    # iter_bytes decompresses: the cap holds for gzip bombs too.
                    for chunk in resp.iter_bytes(65536):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise FetchError(
                                f"{url}: body over the {self.max_bytes}-byte limit", status=200
                            )
                        chunks.append(chunk)
                    return resp.status_code, lowered, b"".join(chunks)
            except httpx.TimeoutException:
                raise FetchError(f"{url}: timed out") from None
            except httpx.DecodingError as exc:
                raise FetchError(f"{url}: cannot decode the body: {exc}") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None

    def _result(
        self,
        url: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        permanent: str | None,
    ) -> FetchResult:
        now = self.clock()
        if status == 304:
            return FetchResult(
                url=url,
                status=304,
                fetched_at=now,
                headers=headers,
                etag=headers.get("etag"),
                last_modified=headers.get("last-modified"),
                not_modified=True,
                permanent_url=permanent,
            )
        if status == 200:
            return FetchResult(
                url=url,
                status=200,
                fetched_at=now,
                body=body,
                headers=headers,
                etag=headers.get("etag"),
                last_modified=headers.get("last-modified"),
                permanent_url=permanent,
            )
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        if status == 410:
            raise FetchError(f"{url}: 410 Gone", status=410, gone=True)
        raise FetchError(f"{url}: HTTP {status}", status=status, retry_after=retry_after)
