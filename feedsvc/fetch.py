"""The only HTTP client: conditional GET, limits, politeness.

`Fetcher.get` returns a FetchResult (a 304 is an ordinary result) or raises
FetchError with one line saying what went wrong and, where the server said
so, when to come back (Retry-After) or that the resource is gone (410).

What makes it polite: a User-Agent naming feedsvc and its base_url, the
stored validators echoed byte for byte, at most `per_host` requests at once
to one host, and a 429 or 503 with Retry-After holding back every request
to that host (not only the source that got it) until the time is up.

What makes it hard to hurt: a connect timeout, a read timeout and a
deadline for the whole answer (a server that drips a byte a second is cut
off too), a body cap enforced while streaming and while decompressing (a
gzip bomb is never inflated past the cap), and an end to redirect loops.
"""

from __future__ import annotations

import contextlib
import email.utils
import threading
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import httpx

from feedsvc.errors import FetchError, FetchRefused
from feedsvc.fetch_policy import (
    FetchPolicy,
    GuardedBackend,
    guarded_transport,
    refused_by_policy,
)
from feedsvc.models import FetchResult

MAX_REDIRECTS = 10
KEEPALIVE = 30.0  # seconds an idle connection to a host is kept for its next poll
MAX_CLIENTS = 512  # hosts whose connections are kept; the least recently used go
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
# Only what we can inflate with a bound on the output (see _Inflater).
ACCEPT_ENCODING = "gzip, deflate"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date.
    Anything else (a negative number, a malformed date) is ignored."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class BodyTooLarge(Exception):
    """The body went over the cap; the Fetcher turns it into a FetchError."""


class BadEncoding(Exception):
    """A Content-Encoding we did not ask for, or a corrupt compressed body."""


GZIP_MAGIC = b"\x1f\x8b"


class _Inflater:
    """One Content-Encoding (gzip or deflate) undone with a bound on the
    output: zlib is never asked for more than the bytes still allowed, so a
    few kilobytes that would inflate to gigabytes cost at most the cap."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding in ("gzip", "x-gzip")
        self._d: zlib._Decompress | None = None
        self._ended = False  # past the end of the stream: ignore the rest

    def _new(self, first: bytes) -> zlib._Decompress:
        if self.gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" should be zlib-wrapped, but servers send raw deflate too
        # (RFC 9110 section 8.4.1.2 owns up to the confusion): read the header.
        wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """Inflate `data`; raise BodyTooLarge past `room` bytes of output."""
        out: list[bytes] = []
        produced = 0
        while data and not self._ended:
            if self._d is None:
                self._d = self._new(data)
            try:
                piece = self._d.decompress(data, room - produced + 1)
            except zlib.error as exc:
                raise BadEncoding(f"cannot decompress the body: {exc}") from None
            produced += len(piece)
            if produced > room:
                raise BodyTooLarge
            out.append(piece)
            if not self._d.eof:
                data = self._d.unconsumed_tail
                continue
            # gzip allows several members in a row (RFC 1952); anything else
            # after the end (padding, junk) is ignored, as browsers do.
            data = self._d.unused_data
            if self.gzip and data.startswith(GZIP_MAGIC):
                self._d = None
            else:
                self._ended = True
        return b"".join(out)

    def finish(self) -> None:
        if self._d is not None and not self._d.eof:
            raise BadEncoding("the compressed body ends early")


def read_body(chunks: Iterable[bytes], content_encoding: str, max_bytes: int) -> bytes:
    """The body from raw (still encoded) chunks, decoded and never more than
    `max_bytes` at any stage. Raises BodyTooLarge or BadEncoding."""
    stages = []
    # Content-Encoding lists codings in the order they were applied.
    for name in reversed([e.strip().lower() for e in content_encoding.split(",")]):
        if name in ("", "identity"):
            continue
        if name not in ("gzip", "x-gzip", "deflate"):
            raise BadEncoding(f"unsupported Content-Encoding {name!r}")
        stages.append(_Inflater(name))
    parts: list[bytes] = []
    size = 0
    for raw in chunks:
        data = raw
        for stage in stages:
            data = stage.feed(data, max_bytes - size)
        size += len(data)
        if size > max_bytes:
            raise BodyTooLarge
        parts.append(data)
    for stage in stages:
        stage.finish()
    return b"".join(parts)


class Fetcher:
    """One shared client for every HTTP source of a process."""

    def __init__(
        self,
        user_agent: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_bytes: int = 10_000_000,
        per_host: int = 2,
        max_hold: float = 86400.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
        policy: FetchPolicy | None = None,
    ) -> None:
        """`policy` decides which addresses may be connected to (checked at
        connect time, see fetch_policy); None connects anywhere, for tools
        and tests. The service always passes one."""
        self.policy = policy
        self._backend: GuardedBackend | None = None
        if transport is None and policy is not None:
            self._backend = GuardedBackend(policy)
        self.max_bytes = max_bytes
        self.per_host = per_host
        self.timeout = timeout
        self.connect_timeout = min(timeout, connect_timeout)
        self.clock = clock
        self.user_agent = user_agent
        self.transport = transport
        # One client (one connection pool) per host, so that a host's polls
        # reuse its connections and picking one never scans every host's.
        self._clients: OrderedDict[str, httpx.Client] = OrderedDict()
        self._in_use: Counter[str] = Counter()
        self._tls = httpx.create_ssl_context()  # shared: one per client is slow
        self.max_hold = max_hold
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        # Hosts that answered 429 or 503 with Retry-After: until when, and
        # what they said. Their other sources and pages wait too.
        self._holds: dict[str, tuple[datetime, int]] = {}
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        with self._hosts_lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()

    def set_policy(self, policy: FetchPolicy) -> None:
        """From the next request on, connect as `policy` says."""
        self.policy = policy
        if self._backend is not None:
            self._backend.policy = policy

    def _new_client(self) -> httpx.Client:
        limits = httpx.Limits(
            max_connections=self.per_host,
            max_keepalive_connections=self.per_host,
            keepalive_expiry=KEEPALIVE,
        )
        transport = self.transport
        if self._backend is not None:  # every connection checked by the policy
            transport = guarded_transport(self._backend, limits, self._tls)
        client = httpx.Client(
            headers={
                "User-Agent": self.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            # httpx's read timeout is per read; the deadline in _read covers
            # the whole answer.
            timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
            follow_redirects=False,
            transport=transport,
            verify=self._tls,
            limits=limits,
        )
        client._cookies = _Cookies()  # no public hook: see _Cookies
        return client

    @contextmanager
    def _client_for(self, url: str) -> Iterator[httpx.Client]:
        """The URL's host's client, the least recently used host's closed
        (when idle) past MAX_CLIENTS hosts."""
        host = host_of(url)
        idle: list[httpx.Client] = []
        with self._hosts_lock:
            client = self._clients.get(host)
            if client is None:
                client = self._clients[host] = self._new_client()
                for other in list(self._clients)[: max(0, len(self._clients) - MAX_CLIENTS)]:
                    if not self._in_use[other]:
                        idle.append(self._clients.pop(other))
            self._clients.move_to_end(host)
            self._in_use[host] += 1
        for old in idle:
            old.close()
        try:
            yield client
        finally:
            with self._hosts_lock:
                self._in_use[host] -= 1
                if not self._in_use[host]:
                    del self._in_use[host]

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        """The semaphore of the URL's host: politeness is per machine, so
        the port is left out (miniflux's limit per host does the same)."""
        host = host_of(url)
        with self._hosts_lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(self.per_host)
            return self._hosts[host]

    def _hold(self, url: str, status: int, seconds: float) -> None:
        until = self.clock() + timedelta(seconds=min(seconds, self.max_hold))
        with self._hosts_lock:
            current = self._holds.get(host_of(url))
            if current is None or current[0] < until:
                self._holds[host_of(url)] = (until, status)

    def _check_hold(self, url: str) -> None:
        """Refuse, without a request, a URL whose host asked us to wait."""
        host = host_of(url)
        with self._hosts_lock:
            hold = self._holds.get(host)
        if hold is None:
            return
        until, status = hold
        wait = (until - self.clock()).total_seconds()
        if wait <= 0:
            with self._hosts_lock:
                if self._holds.get(host) == hold:
                    del self._holds[host]
            return
        raise FetchError(
            f"{url}: not requested: {host} answered HTTP {status} with Retry-After, "
            f"{wait:g}s to go",
            status=status,
            retry_after=wait,
        )

    def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url`, following redirects, with the stored validators echoed
        byte for byte. A chain of 301/308 is reported as `permanent_url`;
        from the first 302/303/307 on, the chain is temporary."""
        headers: dict[bytes, bytes] = {}
        # Validators are kept as latin-1 text so that any bytes the server
        # sent go back exactly as they came.
        if etag:
            headers[b"If-None-Match"] = etag.encode("latin-1", "replace")
        if last_modified:
            headers[b"If-Modified-Since"] = last_modified.encode("latin-1", "replace")
        permanent: str | None = None
        all_permanent = True
        seen = {url}
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            _check_url(current)
            self._check_hold(current)
            status, resp_headers, body, sent = self._get_once(current, headers)
            if status in REDIRECTS and "location" in resp_headers:
                try:
                    target = urljoin(current, resp_headers["location"].strip())
                except ValueError:
                    raise FetchError(
                        f"{url}: redirect to an invalid URL {resp_headers['location']!r}"
                    ) from None
                if target in seen:
                    raise FetchError(f"{url}: redirect loop at {target}", status=status)
                seen.add(target)
                all_permanent = all_permanent and status in PERMANENT
                if all_permanent:
                    permanent = target
                current = target
                continue
            return self._result(current, status, resp_headers, body, permanent, sent)
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _get_once(
        self, url: str, headers: Mapping[bytes, bytes]
    ) -> tuple[int, dict[str, str], bytes, dict[str, str]]:
        with self._host_slot(url):
            deadline = time.monotonic() + self.timeout
            marked = self.policy.request(url) if self.policy else contextlib.nullcontext()
            try:
                with (
                    marked,
                    self._client_for(url) as client,
                    client.stream("GET", url, headers=headers) as resp,
                ):
                    lowered = _headers(resp)
                    sent = {name.lower(): value for name, value in resp.request.headers.items()}
                    if resp.status_code == 304:
                        # Reading the (empty) answer to its end is what lets
                        # the connection go back to the pool for the host's
                        # next poll instead of being closed.
                        resp.read()
                    if resp.status_code != 200:
                        return resp.status_code, lowered, b"", sent
                    return resp.status_code, lowered, self._read(url, resp, deadline), sent
            except httpx.ConnectTimeout:
                raise FetchError(f"{url}: no connection within {self.connect_timeout:g}s") from None
            except httpx.TimeoutException:
                raise FetchError(f"{url}: timed out after {self.timeout:g}s") from None
            except httpx.ConnectError as exc:
                refused = refused_by_policy(exc)
                if refused is not None:
                    raise FetchRefused(f"{url}: {refused}") from None
                raise FetchError(f"{url}: cannot connect: {exc}") from None
            except UnicodeError as exc:  # a host name IDNA cannot encode ("a..b")
                raise FetchError(f"{url}: not a valid host name: {exc}") from None
            except httpx.InvalidURL as exc:
                raise FetchError(f"{url!r} is not a valid URL: {exc}") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None

    def _read(self, url: str, resp: httpx.Response, deadline: float) -> bytes:
        declared = resp.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.max_bytes and not _encoded(resp):
            raise FetchError(
                f"{url}: body of {declared} bytes is over the {self.max_bytes}-byte limit",
                status=200,
            )

        def raw() -> Iterator[bytes]:
            # iter_raw: httpx must not inflate, or a bomb's chunk is inflated
            # whole before we see it. No chunk size: a chunk per network
            # read, so the deadline is checked as often as a server sends.
            for chunk in resp.iter_raw():
                if time.monotonic() > deadline:
                    raise FetchError(
                        f"{url}: body not complete after {self.timeout:g}s", status=200
                    )
                yield chunk

        try:
            return read_body(raw(), resp.headers.get("content-encoding", ""), self.max_bytes)
        except BodyTooLarge:
            raise FetchError(
                f"{url}: body over the {self.max_bytes}-byte limit", status=200
            ) from None
        except BadEncoding as exc:
            raise FetchError(f"{url}: {exc}", status=200) from None

    def _result(
        self,
        url: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        permanent: str | None,
        sent: dict[str, str] | None = None,
    ) -> FetchResult:
        now = self.clock()
        if status in (200, 304):
            return FetchResult(
                url=url,
                status=status,
                fetched_at=now,
                body=body,
                headers=headers,
                etag=headers.get("etag") or None,
                last_modified=headers.get("last-modified") or None,
                not_modified=status == 304,
                permanent_url=permanent,
                request_headers=sent or {},
            )
        if status == 410:
            raise FetchError(f"{url}: 410 Gone, polling stopped", status=410, gone=True)
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        if status in (429, 503) and retry_after:
            self._hold(url, status, retry_after)
        reason = f"HTTP {status}"
        if retry_after is not None:
            reason += f", Retry-After {retry_after:g}s"
        raise FetchError(f"{url}: {reason}", status=status, retry_after=retry_after)


class _Cookies(httpx.Cookies):
    """A host's cookie jar, as httpx keeps it (a cookie set by a redirect
    goes back on the next request), that looks at an answer only when it
    sets a cookie: handing every 304 to the jar builds a urllib request for
    it, a twentieth of an unchanged poll's CPU."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def host_of(url: str) -> str:
    """The host a URL's politeness limits count against (without the port:
    politeness is per machine)."""
    return (urlsplit(url).hostname or "").lower()


def _check_url(url: str) -> None:
    """Refuse, in one line, what is not an http(s) URL with a host: a
    redirect to file:, a broken IPv6 literal. (What httpx cannot parse, a
    host IDNA rejects, is refused when the request is built: parsing every
    URL twice was a tenth of an unchanged poll.)"""
    try:
        parsed = urlsplit(url)
        scheme, host = parsed.scheme.lower(), parsed.hostname
    except ValueError as exc:
        raise FetchError(f"{url!r} is not a valid URL: {exc}") from None
    if scheme not in ("http", "https") or not host:
        raise FetchError(f"refusing to fetch {url!r}: not an http(s) URL")


def _encoded(resp: httpx.Response) -> bool:
    return resp.headers.get("content-encoding", "identity").strip().lower() != "identity"


def _headers(resp: httpx.Response) -> dict[str, str]:
    """Response headers by lower-case name. The validators are decoded as
    latin-1, whatever httpx guessed, so that they go back byte for byte."""
    out = {name.lower(): value for name, value in resp.headers.items()}
    raw: dict[str, str] = {}
    for name, value in resp.headers.raw:
        key = name.decode("latin-1").lower()
        if key in ("etag", "last-modified"):
            raw.setdefault(key, value.decode("latin-1"))  # the first, not a joined list
    return out | raw
