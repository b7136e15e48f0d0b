"""Articles and versions as the JSON API shows them (api.py), and as
webhooks carry them (notify/message.py): one definition, so the two agree."""

from __future__ import annotations

from typing import Any

from feedsvc.export import iso
from feedsvc.models import ArticleRow, VersionRow
from feedsvc.render import Links


def article_json(a: ArticleRow, title: str, links: Links) -> dict[str, Any]:
    return {
        "id": a.id,
        "feed": a.feed,
        "title": title,
        "url": a.url,
        "first_seen_at": iso(a.first_seen_at),
        "published_at": iso(a.published_at),
        "updated_at": iso(a.updated_at),
        "latest_version": a.latest_version,
        "developing": a.developing,
        "status": a.status,
        "links": {
            "self": f"{links.base_url}/api/articles/{a.id}",
            "html": links.article(a.id),
            "atom": links.article_feed(a.id),
        },
    }


def version_json(v: VersionRow, links: Links, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": v.number,
        "seen_at": iso(v.seen_at),
        "title": v.title,
        "sha256": v.sha256,
        "words": v.words,
        "words_added": v.words_added,
        "words_removed": v.words_removed,
        "change_class": v.change_class,
        "revert_of": v.revert_of,
        "developing": v.developing,
        "suspect": v.suspect,
        "stealth": v.stealth,
        "author": v.author,
        "links": {
            "self": f"{links.base_url}/api/articles/{v.article_id}/versions/{v.number}",
            "html": links.version(v.article_id, v.number),
            "text": links.version(v.article_id, v.number, ".txt"),
        },
    }
    if full:
        out["text"] = v.text
        out["html"] = v.html
    return out
