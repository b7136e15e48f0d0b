"""A real browser reads the pages: Debian's headless Chromium driven by
Playwright loads the article and diff pages served over HTTP on 127.0.0.1,
sees insertions and deletions styled (computed style, not markup), logs no
console errors, and leaves screenshots in test-artifacts/."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.harness import REPO
from tests.newsroom import MARKER, P3, P4, Newsroom
from tests.stories import make_site

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    # What the browser sees does not depend on the backend.
    return f"sqlite:///{tmp_path}/feedsvc.db"


@pytest.fixture
def served(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Iterator[Newsroom]:
    """The five-version story served by werkzeug on an ephemeral port, with
    base_url pointing at it so every link and the stylesheet load."""
    app: dict[str, Callable[..., Any]] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: app["wsgi"](env, start), threaded=True)
    base = f"http://127.0.0.1:{server.port}"
    site = make_site(tmp_path, make_settings, store_for, clock, service={"base_url": base})
    app["wsgi"] = site.app.wsgi_app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser: Any, url: str, errors: list[str], **context: Any) -> Any:
    """A page that records console errors and page errors, and refuses any
    request that is not to our own server."""
    page = browser.new_context(**context).new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    own = urlsplit(url).netloc
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if urlsplit(route.request.url).netloc == own else route.abort()
        ),
    )
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return page


def style(page: Any, selector: str, prop: str) -> str:
    return str(
        page.eval_on_selector(selector, f"el => getComputedStyle(el).getPropertyValue('{prop}')")
    )


def visible_marks(page: Any, tag: str) -> list[str]:
    return [
        text.strip()
        for text in page.eval_on_selector_all(
            f".diff {tag}",
            "els => els.filter(e => e.offsetWidth > 0 && e.offsetHeight > 0).map(e => e.innerText)",
        )
    ]


def test_diff_page_shows_insertions_and_deletions(served: Newsroom, browser: Any) -> None:
    errors: list[str] = []
    aid = served.article().id
    page = open_page(
        browser, f"{served.settings.service.base_url}/articles/{aid}/diff/3...4", errors
    )
    assert MARKER in visible_marks(page, "del")
    assert P4 in visible_marks(page, "ins")
    # The stylesheet loaded and marks the runs: coloured backgrounds, and
    # deletions struck through, so colour is not the only signal.
    assert style(page, ".diff ins", "background-color") == "rgb(215, 245, 221)"
    assert style(page, ".diff del", "background-color") == "rgb(251, 220, 220)"
    assert "line-through" in style(page, ".diff del", "text-decoration-line")
    assert "underline" in style(page, ".diff ins", "text-decoration-line")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "diff-inline.png"), full_page=True)
    page.goto(f"{served.settings.service.base_url}/articles/{aid}/diff/3...4?view=side")
    assert P4 in visible_marks(page, "ins") or P4 in page.inner_text("table.side")
    page.screenshot(path=str(ARTIFACTS / "diff-side-by-side.png"), full_page=True)
    assert errors == []


def test_article_page_shows_the_timeline_with_its_diffs(served: Newsroom, browser: Any) -> None:
    errors: list[str] = []
    aid = served.article().id
    page = open_page(browser, f"{served.settings.service.base_url}/articles/{aid}", errors)
    assert page.title().startswith("Harbour bridge closed for a month")
    steps = page.eval_on_selector_all("ol.timeline > li", "els => els.map(e => e.id)")
    assert steps == ["v5", "v4", "v3", "v2", "v1"]
    # The newest step's diff is open; older ones open with a click, no script.
    assert page.is_visible("#v5 ins")
    assert not page.is_visible("#v2 ins")
    page.click("#v2 summary")
    assert page.is_visible("#v2 ins")
    assert page.inner_text("#v2 ins") == P3
    assert style(page, "#v2 ins", "background-color") == "rgb(215, 245, 221)"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "article.png"), full_page=True)
    assert errors == []


def test_pages_fit_a_phone_screen(served: Newsroom, browser: Any) -> None:
    errors: list[str] = []
    aid = served.article().id
    base = served.settings.service.base_url
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
    for name, path in [
        ("phone-index", "/"),
        ("phone-article", f"/articles/{aid}"),
        ("phone-diff-side", f"/articles/{aid}/diff/1...5?view=side"),
    ]:
        page = open_page(browser, base + path, errors, **phone)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)  # no sideways scrolling
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert errors == []


def chart_sizes(page: Any) -> list[tuple[int, int]]:
    """(natural width, rendered height) of every chart image that loaded."""
    return [
        (int(w), int(h))
        for w, h in page.eval_on_selector_all(
            "figure.chart img",
            "els => els.map(e => [e.complete ? e.naturalWidth : 0, e.getBoundingClientRect().height])",
        )
    ]


def wait_for_charts(page: Any, timeout: float = 30.0) -> None:
    """Until every chart image has loaded (or failed). Polled from here:
    page.wait_for_function polls with eval inside the page, which the
    pages' Content-Security-Policy (rightly) refuses whenever the first
    look is not already true."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(
        "Array.from(document.querySelectorAll('figure.chart img')).every(e => e.complete)"
    ):
        assert time.monotonic() < deadline, "the charts did not load"
        time.sleep(0.05)


def test_stats_page_shows_its_charts(served: Newsroom, browser: Any) -> None:
    errors: list[str] = []
    base = served.settings.service.base_url
    page = open_page(browser, f"{base}/stats", errors)
    page.wait_for_load_state("networkidle")
    page.eval_on_selector_all("figure.chart img", "els => els.forEach(e => e.scrollIntoView())")
    wait_for_charts(page)
    sizes = chart_sizes(page)
    assert len(sizes) == 3
    assert all(w > 0 and h > 0 for w, h in sizes), sizes
    assert "Articles followed" in page.inner_text("table.stats")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "stats.png"), full_page=True)
    phone = open_page(
        browser,
        f"{base}/stats",
        errors,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
    )
    phone.eval_on_selector_all("figure.chart img", "els => els.forEach(e => e.scrollIntoView())")
    wait_for_charts(phone)
    assert all(w > 0 and h > 0 for w, h in chart_sizes(phone))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(ARTIFACTS / "phone-stats.png"), full_page=True)


def test_article_page_marks_stealth_edits(served: Newsroom, browser: Any) -> None:
    errors: list[str] = []
    aid = served.article().id
    page = open_page(browser, f"{served.settings.service.base_url}/articles/{aid}", errors)
    # Version 3 changed the headline and told nobody; version 5 carries a
    # correction notice.
    assert page.is_visible("#v3 .badge-stealth")
    assert page.inner_text("#v3 .badge-stealth") == "stealth edit"
    assert style(page, "#v3 .badge-stealth", "background-color") == "rgb(43, 43, 43)"
    assert page.query_selector("#v5 .badge-stealth") is None
    page.click("#v3 summary")
    assert "Stealth edit" in page.inner_text("#v3 ul.changes")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "article-stealth.png"), full_page=True)
    assert errors == []


def test_search_page_finds_removed_text_and_links_the_diff(served: Newsroom, browser: Any) -> None:
    errors: list[str] = []
    base = served.settings.service.base_url
    page = open_page(browser, f"{base}/search", errors)
    page.fill("form.search input[name=q]", '"more details to follow"')
    page.click("form.search button")
    page.wait_for_selector("li.hit")
    assert page.inner_text("li.hit .badge") == "removed in version 4"
    assert "last seen in version 3" in page.inner_text("li.hit")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)
    page.click("text=the diff that removed it")
    page.wait_for_selector(".diff del")
    assert page.url.endswith("/diff/3...4")
    assert MARKER in visible_marks(page, "del")
    assert errors == []


def test_the_pages_policy_blocks_an_injected_inline_script(served: Newsroom, browser: Any) -> None:
    """Should a script ever reach a page (a sanitiser bug, a template
    mistake), the browser refuses to run it: the page's own headers, as the
    server sent them, with a script spliced into the body on the way."""
    aid = served.article().id
    url = f"{served.settings.service.base_url}/articles/{aid}"
    injected = (
        b"<script>document.title = 'pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    )

    def splice(route: Any) -> None:
        response = route.fetch()
        body = response.body().replace(b"<main>", b"<main>" + injected, 1)
        route.fulfill(response=response, body=body)

    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.route(url, splice)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200
    assert b"document.title = 'pwned'" in response.body()  # it was in the page
    assert page.title().startswith("Harbour bridge closed for a month")  # and never ran
    assert any("Content Security Policy" in e for e in errors), errors
