"""Which addresses the fetcher may connect to.

Anything upstream names (an entry's link, a redirect's Location) could point
the fetcher at a service on the operator's own network, and whatever it
fetched would be published. So by default feedsvc connects only to public
addresses; a non-public one (loopback, private, link-local, shared,
reserved...) only when the URL is at the origin (scheme, host, port) of a
configured source, or when the address is inside `[fetch] allow_networks`.

The check runs where it cannot be fooled: at connect time, on the address
the socket is about to connect to, after resolution (`GuardedBackend` is
httpcore's network backend with the check in `connect_tcp`). A host name
that resolves to a public address when looked at and to a private one when
connected to (DNS rebinding) is checked on the second answer, the one used.
Every hop of a redirect chain and every entry link is a new request, so each
is checked the same way.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from feedsvc.config import Settings
from feedsvc.errors import FetchRefused

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}

# Whether the request being made is to a configured origin: set by the
# fetcher around each request, read at connect time (same thread: httpx's
# sync client connects in the caller's thread).
_trusted: ContextVar[bool] = ContextVar("feedsvc_fetch_trusted", default=False)


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, lower-cased, default ports
    filled in; None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def is_public(address: Address) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared
    (carrier NAT), documentation, reserved or multicast. An IPv4 address
    written as IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class FetchPolicy:
    origins: frozenset[tuple[str, str, int]] = frozenset()
    allow_networks: tuple[Network, ...] = ()

    @classmethod
    def for_sources(
        cls, sources: Iterable[str], allow_networks: Iterable[Network] = ()
    ) -> FetchPolicy:
        found = (origin(s) for s in sources)
        return cls(frozenset(o for o in found if o is not None), tuple(allow_networks))

    def trusted(self, url: str) -> bool:
        return origin(url) in self.origins

    def refusal(self, host: str, address: Address, trusted: bool) -> str | None:
        """Why connecting to `address` (for `host`) is refused, or None."""
        if trusted or is_public(address):
            return None
        if any(address in network for network in self.allow_networks):
            return None
        shown = host if host == str(address) else f"{host} ({address})"
        return (
            f"refused by the fetch policy: {shown} is not a public address, not at a "
            "configured source's origin and not in [fetch] allow_networks"
        )

    @contextmanager
    def request(self, url: str) -> Iterator[None]:
        """Mark the connections made inside as being for `url`."""
        token = _trusted.set(self.trusted(url))
        try:
            yield
        finally:
            _trusted.reset(token)


class _Refused(httpcore.ConnectError):
    """Raised at connect time; the fetcher turns it into a FetchRefused."""


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, resolving host names itself and refusing
    to connect to an address the policy does not allow."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        trusted = _trusted.get()
        refused = None
        last: Exception | None = None
        for _family, _type, _proto, _name, sockaddr in infos:
            literal = str(sockaddr[0])
            address = ipaddress.ip_address(literal.partition("%")[0])
            refused = self.policy.refusal(host, address, trusted)
            if refused is not None:
                continue
            try:
                return super().connect_tcp(literal, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # next address, as create_connection does
                last = exc
        if last is not None:
            raise last
        raise _Refused(refused or f"{host}: no address to connect to")


def guarded_transport(
    backend: GuardedBackend, limits: httpx.Limits, ssl_context: ssl.SSLContext
) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through the backend's
    policy (replace `backend.policy` to change it: a reloaded config).
    Proxies from the environment are not used: the check needs the peer's
    real address. `ssl_context` is shared by every host's transport: making
    one loads the CA bundle, some 60 ms."""
    transport = httpx.HTTPTransport(verify=ssl_context, limits=limits, trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport


def policy_for(settings: Settings) -> FetchPolicy:
    """The policy a config asks for: its sources' origins, its allow_networks."""
    return FetchPolicy.for_sources(
        (s for feed in settings.feeds for s in feed.sources), settings.fetch.allow_networks
    )


def refused_by_policy(exc: BaseException) -> str | None:
    """The policy's refusal behind an httpx exception, if that is what it is."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, _Refused):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    return None


__all__ = ["FetchPolicy", "FetchRefused", "guarded_transport", "is_public", "origin"]
