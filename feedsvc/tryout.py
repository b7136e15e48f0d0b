"""`feedsvc extract URL-or-FILE [--feed NAME]`: what feedsvc would store for
one page, stored nowhere, so a user can try a feed's extract_include and
extract_exclude selectors before saving them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from feedsvc import charset
from feedsvc.config import Settings
from feedsvc.errors import FetchError, UsageError
from feedsvc.extract import Extraction, Rules, extract
from feedsvc.fetch import Fetcher
from feedsvc.nesting import flatten_deep
from feedsvc.revisions import normalise, normalise_title, word_count
from feedsvc.text import html_to_text, web_url


@dataclass(frozen=True)
class Tryout:
    """What one page comes out as, with the rules that shaped it."""

    title: str
    text: str
    words: int
    rules: Rules | None
    include_matched: bool | None
    removed: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"title: {self.title}", f"words: {self.words}"]
        if self.rules is None:
            lines.append("rules: none")
        else:
            if self.rules.include:
                state = "matched" if self.include_matched else "matched nothing: the whole page"
                lines.append(f"extract_include {self.rules.include!r}: {state}")
            for selector in self.rules.exclude:
                hits = [r for r in self.removed if r.startswith(f"{selector}: ")]
                lines.append(f"extract_exclude {selector!r}: removed {len(hits)}")
                lines += [f"  - {r[len(selector) + 2 :]}" for r in hits]
        return "\n".join([*lines, "", self.text])


def read_page(settings: Settings, source: str) -> tuple[str, str]:
    """(HTML, URL) of an http(s) URL (fetched as a poll would) or a local file."""
    if web_url(source):
        fetcher = Fetcher(
            settings.user_agent,
            timeout=settings.fetch.timeout,
            connect_timeout=settings.fetch.connect_timeout,
            max_bytes=settings.fetch.max_bytes,
            per_host=settings.scheduler.per_host,
            max_hold=settings.scheduler.max_backoff,
        )
        try:
            result = fetcher.get(source)
        finally:
            fetcher.close()
        return charset.decode_html(result.body, result.headers.get("content-type")), result.url
    path = Path(source).expanduser()
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"{source}: neither an http(s) URL nor a readable file ({exc.strerror})"
        ) from None
    return charset.decode_html(body, None), path.resolve().as_uri()


def try_extract(settings: Settings, source: str, feed_name: str | None = None) -> Tryout:
    """Extract SOURCE with the rules of feed `feed_name` (none without it)."""
    rules = None
    if feed_name is not None:
        try:
            rules = Rules.of(settings.feed(feed_name))
        except KeyError:
            raise UsageError(f"no feed named {feed_name!r} in {settings.path}") from None
    try:
        html, url = read_page(settings, source)
    except FetchError as exc:  # its message names the URL
        raise UsageError(str(exc)) from None
    done: Extraction = extract(flatten_deep(html), url, rules=rules)
    entry = done.entry
    ignore = settings.feed(feed_name).ignore if feed_name is not None else ()
    text = normalise(entry.text if entry.text is not None else html_to_text(entry.html), ignore)
    return Tryout(
        title=normalise_title(entry.title),
        text=text,
        words=word_count(text),
        rules=rules,
        include_matched=done.include_matched,
        removed=done.removed,
    )
