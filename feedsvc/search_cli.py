"""`feedsvc search "phrase"`: the articles whose text, current or removed,
matches, one block each, saying where in its history the match is."""

from __future__ import annotations

import json

import click

from feedsvc.errors import UsageError
from feedsvc.render import Links
from feedsvc.storage import Store
from feedsvc.storage.search import SearchHit, SearchQueryError


def search_command(
    store: Store, links: Links, q: str, *, feed: str | None, limit: int, as_json: bool
) -> int:
    """Print the hits; returns how many. A query that cannot be searched
    for is a UsageError (one line, exit 2)."""
    try:
        hits = store.search(q, feed=feed, limit=limit)
    except SearchQueryError as exc:
        raise UsageError(str(exc)) from None
    for hit in hits:
        if as_json:
            click.echo(json.dumps(hit_record(hit, links), ensure_ascii=False))
        else:
            click.echo(hit_text(hit, links))
    if not hits and not as_json:
        click.echo("nothing found", err=True)
    return len(hits)


def hit_text(hit: SearchHit, links: Links) -> str:
    if hit.current:
        where = f"in the current text (version {hit.last_seen})"
        link = links.version(hit.article_id, hit.last_seen)
    else:
        where = f"removed in version {hit.removed_in}, last seen in version {hit.last_seen}"
        assert hit.removed_in is not None
        link = links.diff(hit.article_id, hit.last_seen, hit.removed_in)
    return f"{hit.article_id}  {hit.title}\n    {where}\n    {hit.snippet}\n    {link}\n"


def hit_record(hit: SearchHit, links: Links) -> dict[str, object]:
    return {
        "article_id": hit.article_id,
        "feed": hit.feed,
        "title": hit.title,
        "current": hit.current,
        "last_seen": hit.last_seen,
        "removed_in": hit.removed_in,
        "snippet": hit.snippet,
        "version": links.version(hit.article_id, hit.last_seen),
        "removed": links.diff(hit.article_id, hit.last_seen, hit.removed_in)
        if hit.removed_in
        else None,
    }
