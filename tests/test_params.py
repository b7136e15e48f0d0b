"""No URL makes the service fail: every route of the app (read from Flask's
url_map, so a route added tomorrow is walked too) is requested with
malformed path segments and query parameters, and answers 2xx, 3xx or 4xx,
never 5xx; a malformed value is a 400 in the format the README describes."""

from __future__ import annotations

import base64
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.newsroom import BRIDGE, Newsroom

# Values that broke or could break a parser: huge numbers (past the
# database's integers, past int()'s 4,300-digit limit), times past the ends
# of datetime, cursors holding either, and plain junk.
HUGE = "9" * 5000
BAD_NUMBERS = ["0", "-1", "1.5", "99999999999999999999", HUGE, "1e3", "٣", " 1", ""]
BAD_TIMES = [
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01",
    "2026-13-01",
    "yesterday",
    "2026-03-01T09:30:00+99:00",
    "2" * 5000,
]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_CURSORS = [
    "999999999999999999-a",
    "99999999999999999999999-a",
    f"{HUGE}-abc",
    "-",
    "1-",
    "1-a/b",
    _b64("0001-01-01T00:00:00+05:00|abc"),
    _b64("9999-12-31T23:59:59-05:00|abc"),
    _b64("0001-01-01T00:00:00+00:00|abc"),
    _b64("2026-03-01T00:00:00+00:00|"),
    "%%%",
    "A" * 5000,
]
BAD_TEXT = ["\x00", "%ff", "\u202e", "'; drop table articles; --", "x" * 5000]
ALL_BAD = BAD_NUMBERS + BAD_TIMES + BAD_CURSORS + BAD_TEXT
# For query parameters, one of each kind of trouble (each query string is a
# new rendering of a page, so the full list on every route would be slow).
QUERY_BAD = [HUGE, "99999999999999999999", "0", "-1", *BAD_TIMES[:2], *BAD_CURSORS[:3]]
QUERY_BAD += [*BAD_CURSORS[6:8], "\x00", "x" * 5000]

# Query parameters any view reads today, plus every one the API documents.
KNOWN_PARAMS = {"before", "after", "cursor", "since", "limit", "from", "to", "feed", "view", "q"}


@pytest.fixture
def site(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> tuple[Flask, str]:
    room = Newsroom(tmp_path, make_settings, store_for, clock)
    article = room.publish("bridge", BRIDGE[:3])
    return room.app, article.id


def _values(argument: str, good: dict[str, list[str]]) -> list[str]:
    return good.get(argument, []) + ALL_BAD


def _paths(app: Flask, aid: str) -> tuple[list[str], list[str]]:
    """Every GET route with valid arguments, and with each argument in turn
    malformed, the others valid (so the malformed one reaches the code past
    the lookups)."""
    good = {"name": ["city"], "aid": [aid], "number": ["1", "3"], "spec": ["1...3"]}
    good["filename"] = ["style.css"]
    valid, paths = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        arguments = sorted(rule.arguments)
        path = rule.rule
        for name in arguments:
            path = re.sub(r"<(?:[^:<>]+:)?" + name + ">", good.get(name, ["x"])[0], path)
        valid.append(path)
        for bad_arg in arguments:
            choices = [
                _values(a, good) if a == bad_arg else good.get(a, ["x"])[:1] for a in arguments
            ]
            for combo in itertools.product(*choices):
                path = rule.rule
                for name, value in zip(arguments, combo, strict=True):
                    path = re.sub(r"<(?:[^:<>]+:)?" + name + ">", _quote(value), path)
                paths.append(path)
        # Version ranges have their own shapes.
        if "spec" in arguments:
            for spec in ["3...1", "1...1", f"1...{HUGE}", "1...99999999999999999999", "1..2"]:
                paths.append(rule.rule.replace("<aid>", aid).replace("<spec>", spec))
                paths.append(rule.rule.replace("<aid>", aid).replace("<spec>", spec + ".diff"))
    return valid, paths


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def test_no_malformed_path_or_parameter_gets_a_server_error(site: tuple[Flask, str]) -> None:
    app, aid = site
    client = app.test_client()
    valid, paths = _paths(app, aid)
    documented = client.get("/api/openapi.json").get_json()
    names = set(KNOWN_PARAMS)
    for operation in documented["paths"].values():
        names |= {p["name"] for p in operation["get"].get("parameters", [])}
    queries = [f"?{n}={_quote(v)}" for n in sorted(names) for v in QUERY_BAD]
    urls = paths + [path + query for path in valid for query in queries]
    failures = []
    for url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {url[:120]}")
    assert not failures, "\n".join(failures[:30])


@pytest.mark.parametrize(
    ("url", "html"),
    [
        ("/feeds/city.atom?before=999999999999999999-a", True),
        ("/api/feeds/city/articles?since=0001-01-01T00:00:00%2B05:00", False),
        ("/api/export?since=0001-01-01T00:00:00%2B05:00", False),
        ("/articles/AID/versions/99999999999999999999", True),
        ("/articles/AID/versions/99999999999999999999.txt", True),
        ("/articles/AID/diff/1...99999999999999999999", True),
        ("/articles/AID/diff/1...99999999999999999999.diff", True),
        (f"/api/articles/AID/versions/{HUGE}", False),
        (f"/api/articles/AID/diff?to={HUGE}", False),
    ],
)
def test_a_malformed_value_is_a_400_naming_it(
    site: tuple[Flask, str], url: str, html: bool
) -> None:
    app, aid = site
    response = app.test_client().get(url.replace("AID", aid))
    assert response.status_code == 400
    if html:
        assert response.mimetype == "text/html"
        assert b"400" in response.data
    else:
        assert response.get_json()["status"] == 400
        assert response.get_json()["error"].split(":")[0] in ("since", "version", "to")


def test_a_cursor_with_a_year_one_date_is_a_400(site: tuple[Flask, str]) -> None:
    app, _ = site
    cursor = _b64("0001-01-01T00:00:00+05:00|abc")
    response = app.test_client().get(f"/api/feeds/city/articles?cursor={cursor}")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "cursor: not a cursor this service gave out",
        "status": 400,
    }
