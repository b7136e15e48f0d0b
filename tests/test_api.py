"""The JSON API under /api/: every answer matches the OpenAPI document it
serves, paging and filters work, errors are JSON with the right status."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.newsroom import BRIDGE, HEADLINE, MARKER, P3, Newsroom

BASE = "http://feeds.test"


@pytest.fixture
def newsroom(tmp_path: Path, make_settings: Any, store_for: Any, clock: Any) -> Newsroom:
    room = Newsroom(tmp_path, make_settings, store_for, clock)
    room.publish("bridge", BRIDGE)
    for n, slug in enumerate(["flood", "budget", "school", "storm"]):
        room.write(slug, f"Story {slug}", f"What happened with the {slug} on day {n}.")
        room.poll(20 * 60)
    return room


@pytest.fixture
def client(newsroom: Newsroom) -> FlaskClient:
    return newsroom.client


class OpenAPI:
    """Checks answers against the document the app serves at /api/openapi.json."""

    def __init__(self, client: FlaskClient) -> None:
        self.doc = client.get("/api/openapi.json").get_json()
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource("urn:api", resource)
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in self.doc["paths"]
        ]

    def operation(self, path: str) -> str:
        api_path = path.removeprefix("/api")
        for pattern, template in self.routes:
            if pattern.match(api_path):
                return template
        raise AssertionError(f"{path} is not in the OpenAPI document")

    def check(self, path: str, response: Any) -> None:
        template = self.operation(path)
        responses = self.doc["paths"][template]["get"]["responses"]
        assert str(response.status_code) in responses, (path, response.status_code)
        content = responses[str(response.status_code)]["content"]
        assert response.mimetype in content, (path, response.mimetype)
        schema = content[response.mimetype]["schema"]
        if response.mimetype == "application/x-ndjson":
            documents = [json.loads(line) for line in response.data.splitlines()]
        else:
            documents = [response.get_json()]
        validator = jsonschema.Draft202012Validator(
            {"$ref": "urn:api" + schema["$ref"]} if "$ref" in schema else schema,
            registry=self.registry,
            format_checker=jsonschema.FormatChecker(),
        )
        for document in documents:
            validator.validate(document)


@pytest.fixture
def openapi(client: FlaskClient) -> OpenAPI:
    return OpenAPI(client)


def test_openapi_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": f"{BASE}/api"}]


def test_every_answer_reachable_from_the_feed_list_matches_the_document(
    client: FlaskClient, openapi: OpenAPI
) -> None:
    """Walk the API the way a script would, from /api/feeds through every
    link it is given, and check each answer against its schema."""
    todo, seen, operations = ["/api/feeds"], set(), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code == 200, (path, response.data[:200])
        openapi.check(path, response)
        operations.add(openapi.operation(path))
        for url in re.findall(r'"(http://feeds\.test/api/[^"]+)"', response.get_data(as_text=True)):
            parts = urlsplit(url)
            todo.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert operations == {
        "/feeds",
        "/feeds/{name}/articles",
        "/articles/{id}",
        "/articles/{id}/versions/{number}",
    }
    assert len([p for p in seen if "/versions/" in p]) == 9  # 5 bridge + 4 one-version stories


# (path, status): every way a request can go wrong, and the status it gets.
ERRORS = [
    ("/api/feeds/nope/articles", 404),
    ("/api/feeds/city/articles?limit=0", 400),
    ("/api/feeds/city/articles?limit=ten", 400),
    ("/api/feeds/city/articles?limit=501", 400),
    ("/api/feeds/city/articles?cursor=not-a-cursor", 400),
    ("/api/feeds/city/articles?since=yesterday", 400),
    ("/api/articles/0123456789abcdef", 404),
    ("/api/articles/0123456789abcdef/versions/1", 404),
    ("/api/articles/0123456789abcdef/diff", 404),
    ("/api/articles/{bridge}/versions/6", 404),
    ("/api/articles/{bridge}/versions/one", 400),
    ("/api/articles/{bridge}/versions/99999999999999999999", 400),
    ("/api/articles/{bridge}/diff?from=2&to=2", 400),
    ("/api/articles/{bridge}/diff?from=1&to=6", 400),
    ("/api/articles/{bridge}/diff?from=0&to=1", 400),
    ("/api/articles/{bridge}/diff?from=x", 400),
    ("/api/articles/{flood}/diff", 400),  # one version: nothing to diff
    ("/api/export?feed=nope", 404),
    ("/api/export?since=3rd%20of%20May", 400),
]


def test_errors_are_json_with_the_right_status(
    newsroom: Newsroom, client: FlaskClient, openapi: OpenAPI
) -> None:
    ids = {"bridge": newsroom.article("bridge").id, "flood": newsroom.article("flood").id}
    for template, status in ERRORS:
        path = template.format(**ids)
        response = client.get(path)
        assert (template, response.status_code) == (template, status)
        assert response.mimetype == "application/json", template
        assert response.get_json()["status"] == status
        assert "Traceback" not in response.get_json()["error"]
        openapi.check(path.split("?")[0], response)


def test_unknown_api_path_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/no/such/thing")
    assert (response.status_code, response.get_json()) == (
        404,
        {"error": "not found", "status": 404},
    )


def test_articles_page_by_cursor_newest_update_first_each_once(
    newsroom: Newsroom, client: FlaskClient
) -> None:
    ids, url = [], "/api/feeds/city/articles?limit=2"
    pages = 0
    while url:
        body = client.get(url).get_json()
        ids += [a["id"] for a in body["articles"]]
        url = body["next"] and body["next"].removeprefix(BASE)
        pages += 1
    assert pages == 3
    expected = [newsroom.article(s).id for s in ["storm", "school", "budget", "flood", "bridge"]]
    assert ids == expected


def test_next_page_keeps_a_since_with_a_zone(newsroom: Newsroom, client: FlaskClient) -> None:
    # "+" in a query string means a space unless escaped: the next link must
    # carry the offset intact.
    since = "2026-03-01T10:00:00+01:00"
    first = client.get("/api/feeds/city/articles", query_string={"limit": 2, "since": since})
    body = first.get_json()
    assert body["next"] is not None
    second = client.get(body["next"].removeprefix(BASE))
    assert second.status_code == 200, second.get_json()
    assert len(second.get_json()["articles"]) == 2


def test_articles_since_keeps_those_updated_at_or_after(
    newsroom: Newsroom, client: FlaskClient
) -> None:
    school = newsroom.article("school")
    since = school.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = client.get(f"/api/feeds/city/articles?since={since}").get_json()
    assert [a["title"] for a in body["articles"]] == ["Story storm", "Story school"]
    assert body["next"] is None


def test_article_lists_every_versions_metadata(newsroom: Newsroom, client: FlaskClient) -> None:
    bridge = newsroom.article("bridge")
    body = client.get(f"/api/articles/{bridge.id}").get_json()
    assert body["title"] == BRIDGE[-1][0]
    assert body["latest_version"] == 5
    stored = newsroom.store.get_versions(bridge.id)
    assert [(v["number"], v["sha256"], v["change_class"]) for v in body["versions"]] == [
        (v.number, v.sha256, v.change_class) for v in stored
    ]
    assert [v["change_class"] for v in body["versions"]][:3] == ["initial", "append", "headline"]


def test_version_carries_its_text_and_html(newsroom: Newsroom, client: FlaskClient) -> None:
    bridge = newsroom.article("bridge")
    body = client.get(f"/api/articles/{bridge.id}/versions/1").get_json()
    assert body["title"] == HEADLINE
    assert body["text"].endswith(MARKER)
    assert body["text"].count("\n\n") == len(BRIDGE[0][1]) - 1
    assert "<p>" in body["html"] and MARKER in body["html"]


def test_diff_operations_rebuild_both_versions(newsroom: Newsroom, client: FlaskClient) -> None:
    bridge = newsroom.article("bridge")
    body = client.get(f"/api/articles/{bridge.id}/diff?from=1&to=2").get_json()
    old, new = newsroom.store.get_version(bridge.id, 1), newsroom.store.get_version(bridge.id, 2)
    paragraphs = body["diff"]["paragraphs"]

    def side(name: str) -> str:
        index = f"{name}_index"
        kept = sorted((p[index], p) for p in paragraphs if p[index] is not None)
        return "\n\n".join(
            " ".join(op[f"{name}_text"] for op in p["ops"] if op[f"{name}_text"]) for _, p in kept
        )

    assert (side("old"), side("new")) == (old.text, new.text)
    inserted = [p for p in paragraphs if p["kind"] == "insert"]
    assert [p["ops"][0]["new_text"] for p in inserted] == [P3]
    assert body["diff"]["words_added"] == len(P3.split())


def test_diff_defaults_to_the_last_two_versions(newsroom: Newsroom, client: FlaskClient) -> None:
    bridge = newsroom.article("bridge")
    body = client.get(f"/api/articles/{bridge.id}/diff").get_json()
    assert (body["from"]["number"], body["to"]["number"]) == (4, 5)
    assert body["links"]["html"] == f"{BASE}/articles/{bridge.id}/diff/4...5"


def test_export_streams_every_version_once_as_json_lines(
    newsroom: Newsroom, client: FlaskClient, openapi: OpenAPI
) -> None:
    response = client.get("/api/export")
    assert response.mimetype == "application/x-ndjson"
    assert response.is_streamed
    openapi.check("/api/export", response)
    lines = [json.loads(line) for line in response.data.splitlines()]
    assert sorted((r["article_id"], r["version"]) for r in lines) == sorted(
        (a.article.id, n)
        for a in newsroom.store.list_article_summaries("city", 100)
        for n in range(1, a.article.latest_version + 1)
    )


def test_api_answers_carry_an_etag_and_revalidate(newsroom: Newsroom, client: FlaskClient) -> None:
    first = client.get("/api/feeds")
    assert first.headers["ETag"]
    assert first.last_modified == newsroom.article("storm").updated_at
    again = client.get("/api/feeds", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_export_over_http_filters_by_since(newsroom: Newsroom, client: FlaskClient) -> None:
    storm = newsroom.article("storm")
    since = storm.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    response = client.get(f"/api/export?feed=city&since={since}")
    assert [json.loads(line)["title"] for line in response.data.splitlines()] == ["Story storm"]
