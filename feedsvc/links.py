"""Addresses of everything feedsvc publishes: the URLs (from base_url) and
the Atom ids (from a fixed tag: they survive a move of the service)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

TAG = "tag:feedsvc,2026:"  # RFC 4151; fixed forever, whatever base_url is


def entry_id(article_id: str) -> str:
    return f"{TAG}article:{article_id}"


def revision_id(article_id: str, number: int) -> str:
    return f"{TAG}article:{article_id}:v{number}"


def feed_id(name: str) -> str:
    return f"{TAG}feed:{name}"


def revisions_feed_id(name: str, query: str = "") -> str:
    """A filtered revisions feed (RevisionFilter.query) is a feed of its own."""
    return f"{TAG}feed:{name}:revisions" + (f"?{query}" if query else "")


def article_feed_id(article_id: str) -> str:
    return f"{TAG}article:{article_id}:versions"


def whole_seconds(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Links:
    """Every URL feedsvc publishes, from base_url."""

    base_url: str

    def feed(self, name: str, ext: str = "atom") -> str:
        return f"{self.base_url}/feeds/{name}.{ext}"

    def feed_page(self, name: str, *, before: str | None = None, after: str | None = None) -> str:
        """A page of /feeds/NAME.atom (RFC 5005 section 3) by keyset cursor."""
        if before is not None:
            return f"{self.feed(name)}?before={before}"
        if after is not None:
            return f"{self.feed(name)}?after={after}"
        return self.feed(name)

    def revisions(self, name: str, query: str = "") -> str:
        """/feeds/NAME/revisions.atom, filtered by `query` (RevisionFilter.query)."""
        url = f"{self.base_url}/feeds/{name}/revisions.atom"
        return f"{url}?{query}" if query else url

    def search(self, query: str = "") -> str:
        return f"{self.base_url}/search" + (f"?{query}" if query else "")

    def article(self, aid: str) -> str:
        return f"{self.base_url}/articles/{aid}"

    def article_feed(self, aid: str) -> str:
        return f"{self.base_url}/articles/{aid}.atom"

    def version(self, aid: str, number: int, ext: str = "") -> str:
        return f"{self.base_url}/articles/{aid}/versions/{number}{ext}"

    def diff(self, aid: str, a: int, b: int, ext: str = "") -> str:
        return f"{self.base_url}/articles/{aid}/diff/{a}...{b}{ext}"

    def index(self) -> str:
        return f"{self.base_url}/"
