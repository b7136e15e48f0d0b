"""Only what the operator configured is fetched: a fetch_articles feed whose
entries link to (or redirect to) a server elsewhere on the operator's network
never gets that server requested. The refusal is each article's error, shown
on /healthz; `[fetch] allow_networks` lets a named network through.

Loopback addresses stand in for the operator's network: the feed is served
on 127.0.0.1, the "internal" server on 127.0.0.2 (loopback is not public,
like any private address), and a host name that resolves to loopback checks
that the address is judged after resolution.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug import Request, Response
from werkzeug.serving import make_server

from feedsvc.fetch_policy import FetchPolicy, is_public
from feedsvc.update import Updater
from feedsvc.web import create_app

ARTICLE = """<html><head><title>Staff rota</title></head><body><article>
<h1>Staff rota for the week</h1>
<p>The internal staff rota lists every shift on the night desk this week, with the
names of the editors on call and the numbers to ring when a story breaks late.</p>
<p>Weekend cover is shared between the sports and the city desks, and the early
shift starts at six in the morning on Saturday and Sunday alike.</p>
<p>Anyone swapping a shift should tell the duty editor before Thursday noon so
that the rota can be printed and pinned up in the newsroom on Friday.</p>
</article></body></html>"""


class Server:
    """A werkzeug server in a thread on `host`, recording every request."""

    def __init__(self, host: str, handler: Any) -> None:
        self.requests: list[str] = []

        def app(environ: Any, start_response: Any) -> Any:
            request = Request(environ)
            self.requests.append(request.path)
            return handler(request)(environ, start_response)

        self.server = make_server(host, 0, app, threaded=True)
        self.base = f"http://{host}:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def internal() -> Iterator[Server]:
    """The server nobody configured: an article page at /rota."""
    server = Server(
        "127.0.0.2", lambda _r: Response(ARTICLE, content_type="text/html; charset=utf-8")
    )
    yield server
    server.close()


@pytest.fixture
def newsroom(internal: Server) -> Iterator[Server]:
    """The configured source on 127.0.0.1: a feed whose entries link to the
    internal server directly, through a redirect of its own, and through a
    host name that resolves to loopback."""
    box: dict[str, Server] = {}

    def handler(request: Request) -> Response:
        if request.path == "/hop":
            return Response(status=302, headers={"Location": f"{internal.base}/rota"})
        links = [f"{internal.base}/rota", f"{box['self'].base}/hop", f"{by_name}/rota"]
        items = "".join(
            f"<item><title>Item {n}</title><link>{link}</link><guid>urn:item:{n}</guid>"
            "<description>A one-line summary from the feed.</description></item>"
            for n, link in enumerate(links)
        )
        return Response(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            f"<link>{box['self'].base}/</link><description>d</description>{items}</channel></rss>",
            content_type="application/rss+xml",
        )

    # "localhost" at the internal server's port: not a configured origin, and
    # it resolves to loopback, which only the resolved address can tell.
    by_name = f"http://localhost:{internal.server.port}"
    box["self"] = server = Server("127.0.0.1", handler)
    yield server
    server.close()


def _world(make_settings: Any, store_for: Any, clock: Any, source: str, **fetch: Any) -> Any:
    settings = make_settings(
        [{"name": "wire", "sources": [source], "fetch_articles": True}], fetch=fetch
    )
    store = store_for(settings)
    store.sync_sources(settings.feeds, clock())
    return settings, store, Updater(settings, store, clock=clock)


def test_links_and_redirects_to_unconfigured_private_servers_are_never_fetched(
    internal: Server, newsroom: Server, make_settings: Any, store_for: Any, clock: Any
) -> None:
    settings, store, updater = _world(make_settings, store_for, clock, f"{newsroom.base}/feed")
    outcomes = updater.poll("test", due_only=False)
    updater.close()
    assert [o.error for o in outcomes] == [None]  # the feed itself is configured: fine
    assert newsroom.requests.count("/hop") == 1  # its own redirect was followed...
    assert internal.requests == []  # ...but nothing reached the internal server

    health = create_app(settings, store).test_client().get("/healthz").get_json()
    refused = {p["url"]: p["last_error"] for p in health["pages_failing"]}
    assert set(refused) == {
        f"{internal.base}/rota",
        f"{newsroom.base}/hop",
        f"http://localhost:{internal.server.port}/rota",
    }
    for error in refused.values():
        assert "refused by the fetch policy" in error
        assert "is not a public address" in error
    # What the feed itself said is all that was published.
    assert "night desk" not in create_app(settings, store).test_client().get(
        "/feeds/wire.atom"
    ).get_data(as_text=True)


def test_allow_networks_lets_a_named_network_through(
    internal: Server, newsroom: Server, make_settings: Any, store_for: Any, clock: Any
) -> None:
    settings, store, updater = _world(
        make_settings,
        store_for,
        clock,
        f"{newsroom.base}/feed",
        allow_networks=["127.0.0.2/32"],
    )
    updater.poll("test", due_only=False)
    updater.close()
    # Direct and redirected links reach 127.0.0.2; "localhost" (127.0.0.1 or
    # ::1 at a port nobody configured) is still refused.
    assert len(internal.requests) >= 2 and set(internal.requests) == {"/rota"}
    health = create_app(settings, store).test_client().get("/healthz").get_json()
    assert [p["url"] for p in health["pages_failing"]] == [
        f"http://localhost:{internal.server.port}/rota"
    ]
    feed = create_app(settings, store).test_client().get("/feeds/wire.atom")
    assert "night desk" in feed.get_data(as_text=True)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.2", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
    ],
)
def test_what_counts_as_public(address: str, public: bool) -> None:
    import ipaddress

    assert is_public(ipaddress.ip_address(address)) is public


def test_a_configured_origin_is_scheme_host_and_port() -> None:
    policy = FetchPolicy.for_sources(["http://127.0.0.1:8081/feed", "/srv/local/folder"])
    assert policy.trusted("http://127.0.0.1:8081/other/page")
    assert policy.trusted("HTTP://127.0.0.1:8081/")
    assert not policy.trusted("http://127.0.0.1:8082/feed")
    assert not policy.trusted("https://127.0.0.1:8081/feed")


def test_a_reloaded_config_changes_the_policy(
    internal: Server, newsroom: Server, make_settings: Any, store_for: Any, clock: Any
) -> None:
    _, _, updater = _world(make_settings, store_for, clock, f"{newsroom.base}/feed")
    updater.poll("test", due_only=False)
    assert internal.requests == []
    reloaded = make_settings(
        [{"name": "wire", "sources": [f"{newsroom.base}/feed"], "fetch_articles": True}],
        fetch={"allow_networks": ["127.0.0.2/32"]},
    )
    updater.apply_settings(reloaded)
    clock.advance(3600)  # past the refused pages' backoff
    updater.poll("test", due_only=False)
    updater.check_articles("test")  # pages due on their own schedule
    updater.close()
    assert internal.requests and set(internal.requests) == {"/rota"}
