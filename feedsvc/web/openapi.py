"""The OpenAPI 3.1 document of the JSON API, served at /api/openapi.json.

Written by hand, next to the code in api.py that it describes; the tests
check every answer of every endpoint against it, so the two cannot drift.
Schemas are JSON Schema 2020-12 (OpenAPI 3.1), closed with
additionalProperties: false so an undocumented field fails the tests too.
"""

from __future__ import annotations

from typing import Any

from feedsvc import __version__

MAX_LIMIT = 500  # articles per page
MAX_INT = 2**31 - 1  # the database's integer columns

CHANGE_CLASSES = ["initial", "append", "edit", "headline", "correction", "deletion", "revert"]
_CLASS = "(" + "|".join(CHANGE_CLASSES) + ")"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    if description:
        out["description"] = description
    return out


STR = {"type": "string"}
URL = {"type": "string", "format": "uri"}
INT = {"type": "integer", "minimum": 0}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
NULL_STR = {"type": ["string", "null"]}
ARTICLE_ID = {"type": "string", "pattern": "^[0-9a-f]{16}$", "example": "7009d475d54ba9d5"}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {"error": STR, "status": {"type": "integer", "minimum": 400, "maximum": 599}},
        "Every error: a message for a person and the HTTP status.",
    ),
    "Feed": _obj(
        {
            "name": STR,
            "title": STR,
            "articles": INT,
            "changed_at": NULL_TIME,
            "links": _obj({"articles": URL, "atom": URL, "rss": URL, "revisions": URL}),
        },
        "A configured feed; `changed_at` is when its data last changed.",
    ),
    "FeedList": _obj({"feeds": {"type": "array", "items": _ref("Feed")}}),
    "Article": _obj(
        {
            "id": ARTICLE_ID,
            "feed": STR,
            "title": STR,
            "url": NULL_STR,
            "first_seen_at": TIME,
            "published_at": NULL_TIME,
            "updated_at": TIME,
            "latest_version": INT,
            "developing": BOOL,
            "status": STR,
            "links": _obj({"self": URL, "html": URL, "atom": URL}),
        },
        "An article: `id` never changes; `updated_at` is when its latest version was seen.",
    ),
    "ArticlePage": _obj(
        {
            "feed": STR,
            "articles": {"type": "array", "items": _ref("Article")},
            "next_cursor": NULL_STR,
            "next": {"type": ["string", "null"], "format": "uri"},
        },
        "A page of articles, newest update first; `next` is null on the last page.",
    ),
    "VersionMeta": _obj(
        {
            "number": {"type": "integer", "minimum": 1},
            "seen_at": TIME,
            "title": STR,
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "words": INT,
            "words_added": INT,
            "words_removed": INT,
            "change_class": {"type": "string", "enum": CHANGE_CLASSES},
            "revert_of": {"type": ["integer", "null"], "minimum": 1},
            "developing": BOOL,
            "suspect": BOOL,
            "stealth": BOOL,
            "author": NULL_STR,
            "links": _obj({"self": URL, "html": URL, "text": URL}),
        },
        "A version's metadata. `sha256` is of the normalised title and text, so "
        "equal hashes mean the same revision; `suspect` versions are kept out of feeds; "
        "`stealth`: the substance changed with no correction or update notice.",
    ),
    "Event": _obj({"at": TIME, "kind": STR, "detail": NULL_STR}),
}
SCHEMAS["ArticleDetail"] = {
    **SCHEMAS["Article"],
    "required": [*SCHEMAS["Article"]["required"], "versions", "events"],
    "properties": {
        **SCHEMAS["Article"]["properties"],
        "versions": {"type": "array", "items": _ref("VersionMeta"), "description": "Oldest first."},
        "events": {"type": "array", "items": _ref("Event")},
    },
    "description": "An article with every version's metadata and what happened to it.",
}
SCHEMAS["Version"] = {
    **SCHEMAS["VersionMeta"],
    "required": ["article_id", *SCHEMAS["VersionMeta"]["required"], "text", "html"],
    "properties": {
        "article_id": ARTICLE_ID,
        **SCHEMAS["VersionMeta"]["properties"],
        "text": {"type": "string", "description": "Normalised; paragraphs split by a blank line."},
        "html": {"type": "string", "description": "Sanitised HTML."},
    },
    "description": "One version, with its text and HTML.",
}
SCHEMAS["DiffOp"] = _obj(
    {
        "kind": {"type": "string", "enum": ["equal", "insert", "delete", "replace"]},
        "old_text": STR,
        "new_text": STR,
    },
    "A run of words: kept, added (new_text), removed (old_text) or replaced.",
)
SCHEMAS["ParagraphDiff"] = _obj(
    {
        "kind": {"type": "string", "enum": ["equal", "insert", "delete", "change", "moved"]},
        "old_index": {"type": ["integer", "null"], "minimum": 0},
        "new_index": {"type": ["integer", "null"], "minimum": 0},
        "ops": {"type": "array", "items": _ref("DiffOp")},
    },
    "One paragraph: 0-based positions in the old and new text.",
)
SCHEMAS["TextDiff"] = _obj(
    {
        "title": _obj(
            {
                "changed": BOOL,
                "old": STR,
                "new": STR,
                "ops": {"type": "array", "items": _ref("DiffOp")},
            }
        ),
        "words_added": INT,
        "words_removed": INT,
        "paragraphs": {"type": "array", "items": _ref("ParagraphDiff")},
    }
)
SCHEMAS["Diff"] = _obj(
    {
        "article_id": ARTICLE_ID,
        "from": _ref("VersionMeta"),
        "to": _ref("VersionMeta"),
        "diff": _ref("TextDiff"),
        "changes": _ref("Changes"),
        "links": _obj({"html": URL, "unified": URL}),
    },
    "The word-level changes between two versions, as operations.",
)
SCHEMAS["ExportLine"] = _obj(
    {
        "article_id": ARTICLE_ID,
        "feed": STR,
        "url": NULL_STR,
        "version": {"type": "integer", "minimum": 1},
        "seen_at": TIME,
        "title": STR,
        "text": STR,
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "change_class": {"type": "string", "enum": CHANGE_CLASSES},
        "words_added": INT,
        "words_removed": INT,
        "suspect": BOOL,
        "stealth": BOOL,
    },
    "One line of /api/export and `feedsvc export`.",
)
SCHEMAS["Changes"] = _obj(
    {
        "numbers": {
            "type": "array",
            "items": _obj({"old": STR, "new": STR, "context": STR}),
            "description": "Numbers whose value changed in place, with words around them.",
        },
        "quotes": {
            "type": "array",
            "items": _obj(
                {
                    "kind": {"type": "string", "enum": ["added", "removed", "altered"]},
                    "old": NULL_STR,
                    "new": NULL_STR,
                }
            ),
        },
        "names_added": {"type": "array", "items": STR},
        "names_removed": {"type": "array", "items": STR},
    },
    "What a revision did to numbers, quotes and names.",
)
SCHEMAS["Revision"] = {
    **SCHEMAS["VersionMeta"],
    "required": ["article_id", *SCHEMAS["VersionMeta"]["required"], "previous", "changes"],
    "properties": {
        "article_id": ARTICLE_ID,
        **SCHEMAS["VersionMeta"]["properties"],
        "previous": {"type": ["integer", "null"], "minimum": 1},
        "changes": _ref("Changes"),
    },
    "description": "One revision of a revisions feed: the version, the one before it, "
    "and its number, quote and name changes.",
}
SCHEMAS["RevisionList"] = _obj(
    {
        "feed": STR,
        "filter": {"type": "string", "description": "The filter, canonical; empty for none."},
        "atom": URL,
        "revisions": {"type": "array", "items": _ref("Revision")},
    },
    "A feed's revisions, newest first, as its (filtered) revisions.atom lists them.",
)
SCHEMAS["SearchHit"] = _obj(
    {
        "article_id": ARTICLE_ID,
        "feed": STR,
        "title": STR,
        "url": NULL_STR,
        "updated_at": TIME,
        "current": BOOL,
        "latest_version": {"type": "integer", "minimum": 1},
        "last_seen": {"type": "integer", "minimum": 1},
        "removed_in": {"type": ["integer", "null"], "minimum": 1},
        "snippet": STR,
        "links": _obj(
            {
                "article": URL,
                "version": URL,
                "removed": {"type": ["string", "null"], "format": "uri"},
            }
        ),
    },
    "An article where the query matched: in its current text (`current`), or "
    "last seen in version `last_seen` and removed by version `removed_in`.",
)
SCHEMAS["SearchPage"] = _obj(
    {
        "query": STR,
        "hits": {"type": "array", "items": _ref("SearchHit")},
        "next_cursor": NULL_STR,
        "next": {"type": ["string", "null"], "format": "uri"},
    },
    "A page of search hits, most recently updated article first.",
)

SCHEMAS["NewVersionEvent"] = _obj(
    {
        "type": {"type": "string", "const": "article.version"},
        "timestamp": {**TIME, "description": "When the version was seen."},
        "data": _obj(
            {
                "feed": STR,
                "article": _ref("Article"),
                "version": _ref("VersionMeta"),
                "previous": {
                    "anyOf": [_ref("VersionMeta"), {"type": "null"}],
                    "description": "The version compared with; null for a new article.",
                },
                "diff": {
                    "anyOf": [_ref("TextDiff"), {"type": "null"}],
                    "description": "Only the paragraphs that changed; null for a new article.",
                },
                "links": _obj(
                    {"diff": {"type": ["string", "null"], "format": "uri"}, "article": URL}
                ),
            }
        ),
    },
    "A webhook: a new version of an article matched a [[notify]] target's rules. "
    "Signed as Standard Webhooks says (webhook-id, webhook-timestamp, webhook-signature); "
    "the webhook-id stays the same when a message is sent again.",
)


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


ERRORS = {
    "400": _json("Error", "A parameter is malformed or out of range."),
    "404": _json("Error", "No such feed, article or version."),
}
NOT_FOUND = {"404": ERRORS["404"]}

P_ARTICLE = {"name": "id", "in": "path", "required": True, "schema": ARTICLE_ID}
P_FEED = {"name": "name", "in": "path", "required": True, "schema": STR}
P_SINCE = {
    "name": "since",
    "in": "query",
    "description": "ISO 8601 date or time (UTC when no zone is given).",
    "schema": {"type": "string", "format": "date-time", "example": "2026-03-01T09:00:00Z"},
}


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI document, with this service's address as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "feedsvc API",
            "version": __version__,
            "description": "Every revision of every article feedsvc keeps, as JSON.",
        },
        "servers": [{"url": f"{base_url}/api"}],
        "paths": {
            "/feeds": {
                "get": {
                    "operationId": "listFeeds",
                    "summary": "Every configured feed.",
                    "responses": {"200": _json("FeedList", "The feeds.")},
                }
            },
            "/feeds/{name}/articles": {
                "get": {
                    "operationId": "listArticles",
                    "summary": "A feed's articles, newest update first, a page at a time.",
                    "parameters": [
                        P_FEED,
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIMIT,
                                "default": 50,
                            },
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "description": "`next_cursor` of the previous page.",
                            "schema": STR,
                        },
                        {**P_SINCE, "description": "Only articles updated at or after this."},
                    ],
                    "responses": {"200": _json("ArticlePage", "A page of articles."), **ERRORS},
                }
            },
            "/articles/{id}": {
                "get": {
                    "operationId": "getArticle",
                    "summary": "An article and its versions' metadata.",
                    "parameters": [P_ARTICLE],
                    "responses": {"200": _json("ArticleDetail", "The article."), **NOT_FOUND},
                }
            },
            "/articles/{id}/versions/{number}": {
                "get": {
                    "operationId": "getVersion",
                    "summary": "One version's text and HTML.",
                    "parameters": [
                        P_ARTICLE,
                        {
                            "name": "number",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
                        },
                    ],
                    "responses": {"200": _json("Version", "The version."), **ERRORS},
                }
            },
            "/articles/{id}/diff": {
                "get": {
                    "operationId": "getDiff",
                    "summary": "The changes between two versions (default: the last two).",
                    "parameters": [
                        P_ARTICLE,
                        {
                            "name": "from",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
                        },
                        {
                            "name": "to",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
                        },
                    ],
                    "responses": {
                        "200": _json("Diff", "The diff."),
                        "400": _json("Error", "A bad version range, or a non-number."),
                        **NOT_FOUND,
                    },
                }
            },
            "/feeds/{name}/revisions": {
                "get": {
                    "operationId": "listRevisions",
                    "summary": "A feed's revisions, newest first, filtered as revisions.atom is.",
                    "parameters": [
                        P_FEED,
                        {
                            "name": "class",
                            "in": "query",
                            "description": "Comma-separated revision classes to keep.",
                            "schema": {
                                "type": "string",
                                "pattern": f"^{_CLASS}(,{_CLASS})*$",
                                "example": "headline,correction",
                            },
                        },
                        {
                            "name": "stealth",
                            "in": "query",
                            "description": "1: only stealth edits; 0: none of them.",
                            "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                        },
                        {
                            "name": "min_words",
                            "in": "query",
                            "description": "Only revisions changing at least this many words.",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 100000},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIMIT,
                                "default": 50,
                            },
                        },
                    ],
                    "responses": {"200": _json("RevisionList", "The revisions."), **ERRORS},
                }
            },
            "/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Articles whose text, current or removed, matches a query.",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "description": 'Words (all must match), "phrases" and prefix* words.',
                            "schema": {"type": "string", "maxLength": 500},
                        },
                        {"name": "feed", "in": "query", "schema": STR},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIMIT,
                                "default": 20,
                            },
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "description": "`next_cursor` of the previous page.",
                            "schema": STR,
                        },
                    ],
                    "responses": {
                        "200": _json("SearchPage", "A page of hits."),
                        "400": _json("Error", "A query that cannot be searched for, and why."),
                        **NOT_FOUND,
                    },
                }
            },
            "/export": {
                "get": {
                    "operationId": "export",
                    "summary": "Every version as JSON Lines, streamed (one ExportLine a line); "
                    "with format=warc, the raw evidence as a gzipped WARC/1.1 file.",
                    "parameters": [
                        {"name": "feed", "in": "query", "schema": STR},
                        {**P_SINCE, "description": "Only versions seen at or after this."},
                        {
                            "name": "format",
                            "in": "query",
                            "description": "jsonl (default) or warc.",
                            "schema": {"type": "string", "enum": ["jsonl", "warc"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "One JSON document per line, oldest first; or, "
                            "with format=warc, WARC records (response, request, and a "
                            "metadata record per version), each a gzip member.",
                            "content": {
                                "application/x-ndjson": {"schema": _ref("ExportLine")},
                                "application/warc": {
                                    "schema": {"type": "string", "format": "binary"}
                                },
                            },
                        },
                        **ERRORS,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "webhooks": {
            "articleVersion": {
                "post": {
                    "operationId": "articleVersion",
                    "summary": "Sent to each [[notify]] webhook for each new version its rules match.",
                    "parameters": [
                        {"name": n, "in": "header", "required": True, "schema": STR}
                        for n in ("webhook-id", "webhook-timestamp", "webhook-signature")
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NewVersionEvent")}},
                    },
                    "responses": {
                        "200": {"description": "Any 2xx: delivered."},
                        "429": {"description": "Retried after the Retry-After the answer gives."},
                    },
                }
            }
        },
        "components": {"schemas": SCHEMAS},
    }
