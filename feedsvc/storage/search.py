"""Full-text search over every stored version, current and removed text.

SQLite: an FTS5 table (`search_fts`) over versions' title and text
(external content: the text stays in `versions`, the index holds tokens).
PostgreSQL: `search_fts(version_id, document tsvector)` with a GIN index.
Either way a version is indexed by index_version() in the transaction that
stores it, and migration 0007 indexes the versions stored before it.

Queries are parsed here, never handed to an engine as written: words,
"quoted phrases" and prefix* words, all of which must match (AND), with an
optional feed filter. Only word characters reach the engine, so its query
syntax cannot be injected; what the parser refuses is a SearchQueryError
(a 400 on the web, exit 2 on the command line).

A hit is an article, with the last published version whose text matched:
when that is the latest published version the phrase is in the current
text; otherwise it was removed by the next published version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Integer, and_, func, or_, select, text
from sqlalchemy.exc import DBAPIError

from feedsvc.errors import FeedsvcError
from feedsvc.storage.engine import StoreBase
from feedsvc.storage.tables import articles, versions

# A longer query is not a search, it is a paste (or an attack).
MAX_QUERY_CHARS = 500
MAX_TERMS = 16
MAX_PHRASE_WORDS = 32
# PostgreSQL refuses a tsvector over 1 MB; index this much of a version
# (some 30,000 words) so a huge page cannot fail the write that stores it.
PG_INDEXED_CHARS = 200_000
# Characters of text shown around a match.
SNIPPET_CHARS = 90

_TOKEN = re.compile(r"[^\W_]+")  # what both engines' tokenizers call a word
_PART = re.compile(r'"([^"]*)"?|([^\s"]+)')


class SearchQueryError(FeedsvcError):
    """A query that cannot be searched for; the message says why."""


@dataclass(frozen=True)
class Term:
    """Words that must appear next to each other, the last one as a prefix
    when `prefix`. A single word is a one-word phrase."""

    words: tuple[str, ...]
    prefix: bool = False

    def fts5(self) -> str:
        return '"' + " ".join(self.words) + '"' + ("*" if self.prefix else "")

    def __str__(self) -> str:
        body = " ".join(self.words)
        quoted = f'"{body}"' if len(self.words) > 1 else body
        return quoted + ("*" if self.prefix else "")


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    def __str__(self) -> str:
        return " ".join(str(t) for t in self.terms)


def parse_query(q: str) -> Query:
    """`bridge "12 people" collap*` -> three terms, all required. Anything
    that is not a word character, a double quote or a trailing * separates
    words. Raises SearchQueryError for an empty, too long or too broad query."""
    if len(q) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"query too long: at most {MAX_QUERY_CHARS} characters")
    terms: list[Term] = []
    for m in _PART.finditer(q):
        phrase, word = m.group(1), m.group(2)
        raw = phrase if phrase is not None else word
        tokens = tuple(_TOKEN.findall(raw))
        if not tokens:
            continue
        if len(tokens) > MAX_PHRASE_WORDS:
            raise SearchQueryError(f"phrase too long: at most {MAX_PHRASE_WORDS} words")
        prefix = phrase is None and raw.endswith("*") and raw.rstrip("*")[-1:].isalnum()
        terms.append(Term(tokens, prefix))
    if not terms:
        raise SearchQueryError(
            "nothing to search for: give a word, a phrase in quotes or a prefix*"
        )
    if len(terms) > MAX_TERMS:
        raise SearchQueryError(f"too many terms: at most {MAX_TERMS}")
    return Query(tuple(terms))


@dataclass(frozen=True)
class SearchHit:
    """One article where the query matched, and where in its history."""

    article_id: str
    feed: str
    url: str | None
    updated_at: datetime
    title: str  # of the latest published version
    latest: int  # the latest published version number
    last_seen: int  # the last published version whose text matched
    removed_in: int | None  # the published version after last_seen (None: current)
    snippet: str  # text around the match in version last_seen

    @property
    def current(self) -> bool:
        return self.removed_in is None


def index_version(
    conn: Connection, version_id: int, title: str, body: str, *, dialect: str
) -> None:
    """Index one stored version, in the caller's transaction."""
    if dialect == "sqlite":
        conn.execute(
            text("INSERT INTO search_fts(rowid, title, text) VALUES (:id, :title, :text)"),
            {"id": version_id, "title": title, "text": body},
        )
    else:
        conn.execute(
            text(
                "INSERT INTO search_fts(version_id, document) VALUES "
                f"(:id, to_tsvector('simple', left(:doc, {PG_INDEXED_CHARS})))"
            ),
            {"id": version_id, "doc": f"{title}\n\n{body}"},
        )


def _matching_versions(query: Query, dialect: str) -> tuple[str, dict[str, Any]]:
    """SQL for the ids of versions matching every term, with its binds."""
    if dialect == "sqlite":
        match = " ".join(t.fts5() for t in query.terms)
        return "SELECT rowid AS id FROM search_fts WHERE search_fts MATCH :match", {"match": match}
    parts, binds = [], {}
    for k, term in enumerate(query.terms):
        if term.prefix:
            lexemes = [f"'{w}'" for w in term.words]
            lexemes[-1] += ":*"
            parts.append(f"to_tsquery('simple', :t{k})")
            binds[f"t{k}"] = " <-> ".join(lexemes)
        else:
            parts.append(f"phraseto_tsquery('simple', :t{k})")
            binds[f"t{k}"] = " ".join(term.words)
    tsquery = " && ".join(parts)
    return f"SELECT version_id AS id FROM search_fts WHERE document @@ ({tsquery})", binds


class SearchStore(StoreBase):
    def search(
        self,
        q: str,
        *,
        feed: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Articles whose text, current or removed, matches `q`; a
        SearchQueryError for a query it cannot run."""
        return run_search(self.engine, q, feed=feed, after=after, limit=limit)


def run_search(
    engine: Engine,
    q: str,
    *,
    feed: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Articles where the query matches any published version, most recently
    updated first, `limit` of them after the keyset `after` (updated_at,
    article id). Raises SearchQueryError for a query it cannot run."""
    query = parse_query(q)
    ids_sql, binds = _matching_versions(query, engine.dialect.name)
    matched = text(ids_sql).bindparams(**binds).columns(id=Integer).subquery("m")
    # Group the matching versions by article first, then look up only one
    # article row per group for the order: a common word matches most
    # versions, and that join is the cost.
    groups = (
        select(versions.c.article_id, func.max(versions.c.number).label("last_seen"))
        .select_from(matched.join(versions, versions.c.id == matched.c.id))
        .where(versions.c.suspect.is_(False))
        .group_by(versions.c.article_id)
        .subquery("g")
    )
    stmt = (
        select(articles.c.id, groups.c.last_seen)
        .select_from(groups.join(articles, articles.c.id == groups.c.article_id))
        .order_by(articles.c.updated_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    if feed is not None:
        stmt = stmt.where(articles.c.feed == feed)
    if after is not None:
        at, aid = after
        stmt = stmt.where(
            or_(articles.c.updated_at < at, and_(articles.c.updated_at == at, articles.c.id < aid))
        )
    with engine.connect() as conn:
        try:
            found = [(str(r[0]), int(r[1])) for r in conn.execute(stmt)]
        except DBAPIError as exc:
            if _rejected(exc):
                raise SearchQueryError(f"the search engine refused the query: {query}") from None
            raise
        return _hits(conn, found, query)


def _rejected(exc: DBAPIError) -> bool:
    message = str(exc.orig).casefold()
    return any(s in message for s in ("fts5", "syntax error", "tsquery", "malformed match"))


def _hits(conn: Connection, found: list[tuple[str, int]], query: Query) -> list[SearchHit]:
    """The hits for (article id, last matching version) pairs, in order:
    three queries for the whole page, not three a hit."""
    if not found:
        return []
    ids = [aid for aid, _ in found]
    arts = {r.id: r for r in conn.execute(select(articles).where(articles.c.id.in_(ids)))}
    published: dict[str, list[int]] = {}
    for r in conn.execute(
        select(versions.c.article_id, versions.c.number)
        .where(versions.c.article_id.in_(ids), versions.c.suspect.is_(False))
        .order_by(versions.c.number)
    ):
        published.setdefault(r.article_id, []).append(int(r.number))
    wanted = {(aid, n) for aid, last_seen in found for n in (last_seen, published[aid][-1])}
    texts = {
        (r.article_id, int(r.number)): r
        for r in conn.execute(
            select(versions.c.article_id, versions.c.number, versions.c.title, versions.c.text)
            # OR of pairs, not a row-value IN: SQLite answers that by scanning.
            .where(
                or_(*(and_(versions.c.article_id == a, versions.c.number == n) for a, n in wanted))
            )
        )
    }
    out = []
    for aid, last_seen in found:
        numbers, art = published[aid], arts[aid]
        later = [n for n in numbers if n > last_seen]
        seen = texts[aid, last_seen]
        out.append(
            SearchHit(
                article_id=aid,
                feed=art.feed,
                url=art.url,
                updated_at=art.updated_at,
                title=texts[aid, numbers[-1]].title,
                latest=numbers[-1],
                last_seen=last_seen,
                removed_in=later[0] if later else None,
                snippet=snippet(f"{seen.title}\n\n{seen.text}", query),
            )
        )
    return out


def snippet(body: str, query: Query, width: int = SNIPPET_CHARS) -> str:
    """Text around the first place a term of the query matches, on one line."""
    start = -1
    length = 0
    for term in query.terms:
        pattern = r"[\W_]+".join(re.escape(w) for w in term.words)
        m = re.search(pattern, body, re.IGNORECASE)
        if m:
            start, length = m.start(), m.end() - m.start()
            break
    if start < 0:
        return _one_line(body[: 2 * width])
    lo, hi = max(0, start - width), min(len(body), start + length + width)
    return ("…" if lo else "") + _one_line(body[lo:hi]) + ("…" if hi < len(body) else "")


def _one_line(s: str) -> str:
    return " ".join(s.split())


def is_search_table(name: str) -> bool:
    """Is this a table (or an FTS5 shadow table) of the search index, which
    is kept outside tables.py's metadata?"""
    return name == "search_fts" or name.startswith("search_fts_")
