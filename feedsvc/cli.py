"""The feedsvc command: run, serve, worker, poll, history, diff."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from feedsvc import __version__, maintenance, notify, redact
from feedsvc.cli_base import config_option, opened
from feedsvc.config import Settings
from feedsvc.errors import FeedsvcError, UsageError
from feedsvc.history import BadRange, diff_range, latest_title, published, revisions
from feedsvc.models import ArticleRow
from feedsvc.reload import ConfigWatcher
from feedsvc.storage import Store

log = logging.getLogger("feedsvc")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact.LogFilter())  # no password or token in a log line
    for noisy in ("apscheduler", "httpx", "httpcore", "trafilatura", "htmldate", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedsvc")
@click.option("-v", "--verbose", is_flag=True, help="Log debugging detail.")
def main(verbose: bool) -> None:
    """feedsvc: keep every revision of every article; serve feeds with update history."""
    setup_logging(verbose)


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _serve(settings: Settings, store: Store, watcher: ConfigWatcher) -> None:
    import waitress

    from feedsvc.web import create_app, state_of

    host, port = settings.service.host_port
    log.info("serving on http://%s:%d (links use %s)", host, port, settings.service.base_url)
    app = create_app(settings, store)
    watcher.on_reload(state_of(app).apply_settings)
    watcher.start()
    try:
        waitress.serve(
            app,
            host=host,
            port=port,
            threads=settings.service.threads,
            ident="feedsvc",
            _quiet=True,
        )
    except OSError as exc:
        raise FeedsvcError(f"cannot listen on {settings.service.listen}: {exc.strerror}") from None


@contextmanager
def scheduling(settings: Settings, store: Store, watcher: ConfigWatcher) -> Iterator[None]:
    """Run the scheduler for the duration of the block; on the way out, let
    the polls in flight finish, then close the HTTP client. Ctrl-C or
    SIGTERM inside the block is the ordinary way to leave it. A reloaded
    config adds and retires sources and applies to the next polls."""
    from feedsvc.scheduler import Scheduler
    from feedsvc.update import Updater, utcnow

    store.sync_sources(settings.feeds, utcnow())
    updater = Updater(settings, store)
    scheduler = Scheduler(updater, store, hub_state=store)

    notifications = notify.Notifications(settings, store)  # its own threads, apart from polling

    def apply(new: Settings) -> None:
        notifications.apply_settings(new)  # before any version of the new feeds
        store.sync_sources(new.feeds, utcnow())
        updater.apply_settings(new)
        scheduler.wake.set()  # new sources are due now

    watcher.on_reload(apply)
    scheduler.start()
    notifications.start()
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        notifications.stop()
        updater.close()
        log.info("stopped")


@main.command()
@config_option
def run(settings: Settings) -> None:
    """Scheduler and web server in one process."""
    _stop_on_sigterm()
    watcher = ConfigWatcher(settings)
    try:
        with opened(settings) as store, scheduling(settings, store, watcher):
            _serve(settings, store, watcher)
    finally:
        watcher.stop()


@main.command()
@config_option
def serve(settings: Settings) -> None:
    """The web server alone (no polling)."""
    _stop_on_sigterm()
    watcher = ConfigWatcher(settings)
    with opened(settings) as store:
        try:
            _serve(settings, store, watcher)
        except KeyboardInterrupt:
            log.info("stopped")
        finally:
            watcher.stop()


@main.command()
@config_option
def worker(settings: Settings) -> None:
    """The scheduler alone: poll due sources, serve nothing."""
    import threading

    _stop_on_sigterm()
    watcher = ConfigWatcher(settings)
    try:
        with opened(settings) as store, scheduling(settings, store, watcher):
            watcher.start()
            threading.Event().wait()
    finally:
        watcher.stop()


@main.command()
@click.option("--feed", "feed_name", metavar="NAME", help="Poll only this feed's sources.")
@click.option(
    "--due",
    "due_only",
    is_flag=True,
    help="Only what is due (for cron): sources and article pages whose time has come.",
)
@config_option
def poll(settings: Settings, feed_name: str | None, due_only: bool) -> None:
    """Look at everything now: poll every source, check (conditionally) the
    page of every article in them and every page that is due, and exit
    (status 1 if a source failed). With --due, only what is due."""
    from feedsvc.leases import worker_id
    from feedsvc.pool import check_articles, poll_sources
    from feedsvc.update import Updater, utcnow

    if feed_name is not None and feed_name not in {f.name for f in settings.feeds}:
        raise FeedsvcError(f"no feed named {feed_name!r} in {settings.path}")
    with opened(settings) as store:
        store.sync_sources(settings.feeds, utcnow())
        updater = Updater(settings, store)
        total = len(
            store.list_candidate_sources(utcnow(), limit=100_000, feed=feed_name, due_only=due_only)
        )
        show = sys.stderr.isatty()
        if show:  # the bar stands for the per-poll lines; failures still print
            logging.getLogger("feedsvc.update").setLevel(logging.WARNING)
        with click.progressbar(
            length=total, label="polling", file=sys.stderr, hidden=not show
        ) as bar:
            outcomes = poll_sources(
                updater,
                worker_id(),
                feed=feed_name,
                due_only=due_only,
                everything=not due_only,
                progress=lambda _o: bar.update(1),
            )
        # The pages that are due; and, looking at everything, every page of
        # a feed that answered 304 (one whose document changed had its
        # pages checked by its poll).
        page_feeds = {f.name for f in settings.feeds if f.fetch_articles}
        unchanged = [
            o.source_id
            for o in outcomes
            if o.not_modified and o.feed in page_feeds and not due_only
        ]
        checks = check_articles(
            updater, worker_id(), feed=feed_name, limit=100_000, in_sources=unchanged
        )
        if settings.service.hub:
            # Best effort: a failing hub is recorded and retried by the
            # worker; it never turns a good poll into an error.
            from feedsvc.websub import HubPinger

            pinger = HubPinger(settings, store)
            pinger.run()
            pinger.close()
        updater.close()
        # No background job here: what the polls put in the outbox (and
        # whatever was still due) is sent now; a failing target is retried
        # by the next poll, with the usual backoff.
        sent = notify.deliver_now(settings, store)
    errors = [o for o in outcomes if o.error]
    click.echo(
        f"polled {len(outcomes)} sources: "
        f"{sum(o.new_articles for o in outcomes)} new articles, "
        f"{sum(o.new_versions for o in outcomes)} new versions, {len(errors)} errors"
    )
    if checks:
        check_errors = [o for o in checks if o.error]
        click.echo(
            f"checked {len(checks)} article pages: "
            f"{sum(o.new_versions for o in checks)} new versions, {len(check_errors)} errors"
        )
    if sent:
        failed = [a for a in sent if not a.result.ok]
        click.echo(
            f"notified {len(sent) - len(failed)} of {len(sent)} messages"
            + (f"; {len(failed)} failed (see feedsvc notify status)" if failed else "")
        )
    if errors:
        sys.exit(1)


@main.command()
@click.option("--feed", "feed_name", metavar="NAME", help="Only this feed's articles.")
@config_option
def reextract(settings: Settings, feed_name: str | None) -> None:
    """Run extraction again over every article's stored raw response (after
    an extractor upgrade, or new boilerplate rules). An article whose text
    comes out the same gets no new version."""
    from feedsvc import isolation
    from feedsvc.reextract import reextract as run_again
    from feedsvc.update import utcnow

    if feed_name is not None and feed_name not in {f.name for f in settings.feeds}:
        raise UsageError(f"no feed named {feed_name!r} in {settings.path}")
    isolation.configure(isolation.limits_from(settings.fetch))  # the parsing children
    with opened(settings) as store:
        examined, added = run_again(settings, store, utcnow(), feed_name)
    click.echo(f"re-extracted {examined} articles: {added} new versions")


@main.command()
@click.argument("source", metavar="URL-or-FILE")
@click.option("--feed", "feed_name", metavar="NAME", help="Apply this feed's extract rules.")
@config_option
def extract(settings: Settings, source: str, feed_name: str | None) -> None:
    """Print what would be stored for one article page (title, word count,
    what the feed's extract rules removed, the text), storing nothing."""
    from feedsvc.tryout import try_extract

    click.echo(try_extract(settings, source, feed_name).report())


@main.command()
@click.argument("article")
@config_option
def history(settings: Settings, article: str) -> None:
    """The versions of ARTICLE (its id or its URL), with what happened to its
    page (gone, moved) and whether it is a developing story."""
    with opened(settings) as store:
        row = store.find_article(article)
        versions = store.get_versions(row.id)
        events = store.list_events(row.id)
    click.echo(f"{row.id}  {latest_title(versions)}")
    if row.url:
        click.echo(f"    {row.url}")
    click.echo(f"    {_article_state(row)}")
    click.echo(f"{'ver':>4}  {'seen (UTC)':<19}  {'words':>6}  {'+':>5}  {'-':>5}  change")
    before = {v.number: previous for previous, v in revisions(versions)}
    pending = list(events)
    for v in versions:
        while pending and pending[0][0] < v.seen_at:
            _echo_event(*pending.pop(0))
        flag = "  (suspect)" if v.suspect else "  (stealth)" if v.stealth else ""
        revert = f" of {v.revert_of}" if v.revert_of else ""
        click.echo(
            f"{v.number:>4}  {v.seen_at:%Y-%m-%d %H:%M:%S}  {v.words:>6}  "
            f"{v.words_added:>5}  {v.words_removed:>5}  {v.change_class}{revert}{flag}"
        )
        previous = before.get(v.number)  # None for the first and for suspect ones
        if previous is not None and v.title != previous.title:
            click.echo(f"{'':>29}headline: {v.title}")
    for event in pending:
        _echo_event(*event)


def _article_state(row: ArticleRow) -> str:
    """One line: is it developing, and how is its page being followed."""
    when = f"{row.next_check_at:%Y-%m-%d %H:%M:%S} UTC" if row.next_check_at else None
    if row.status == "gone":
        return "page gone (404/410): no longer checked"
    if row.status == "moved":
        return "page moved to another article: no longer checked"
    if row.status == "stopped":
        return "left its feed; checks ended (past the recheck ladder)"
    state = "developing story" if row.developing else "not developing"
    if row.status == "dropped":
        state += "; left its feed, checked on the ladder"
    if when:
        state += f"; page checked next at {when}"
    elif row.url and row.status == "active":
        state += "; no checks of its own (past the recheck ladder, or the feed's text)"
    return state


def _echo_event(at: datetime, kind: str, detail: str | None) -> None:
    click.echo(f"{'-':>4}  {at:%Y-%m-%d %H:%M:%S}  {kind}: {detail or ''}")


@main.command("diff")
@click.argument("article")
@click.argument("from_version", required=False, type=int)
@click.argument("to_version", required=False, type=int)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the word diff (auto: when writing to a terminal).",
)
@click.option("--word", is_flag=True, help="Word diff even when not on a terminal.")
@config_option
def diff_command(
    settings: Settings,
    article: str,
    from_version: int | None,
    to_version: int | None,
    color: str,
    word: bool,
) -> None:
    """What changed in ARTICLE (its id or its URL) from FROM to TO (default:
    the last two versions). On a terminal a coloured word diff; piped, a
    unified diff with one line per paragraph."""
    from feedsvc import diffformat, textdiff

    with opened(settings) as store:
        row = store.find_article(article)
        versions = store.get_versions(row.id)
        if len(published(versions)) < 2 and from_version is to_version is None:
            raise FeedsvcError(f"article {row.id} has only one version: nothing to diff yet")
        try:
            from_n, to_n = diff_range(versions, from_version, to_version)
        except BadRange as exc:
            raise FeedsvcError(f"article {row.id}: {exc}") from None
        old, new = store.get_version(row.id, from_n), store.get_version(row.id, to_n)
    colour = color == "always" or (color == "auto" and sys.stdout.isatty())
    if not (colour or word):
        click.echo(
            diffformat.unified(
                old.title, old.text, new.title, new.text, f"version {from_n}", f"version {to_n}"
            ),
            nl=False,
        )
        return
    d = textdiff.diff_texts(old.title, old.text, new.title, new.text)
    header = (
        f"version {from_n} ({old.seen_at:%Y-%m-%d %H:%M} UTC) -> "
        f"version {to_n} ({new.seen_at:%Y-%m-%d %H:%M} UTC): "
        f"+{d.words_added} -{d.words_removed} words"
    )
    if colour:
        lines = diffformat.word_diff_lines(
            d,
            deleted=lambda s: click.style(s, fg="red", strikethrough=True),
            inserted=lambda s: click.style(s, fg="green", underline=True),
        )
        click.echo(click.style(header, bold=True), color=True)
        for line in lines:
            click.echo(line, color=True)
    else:
        click.echo(header)
        for line in diffformat.word_diff_lines(d):
            click.echo(line)


@main.command()
@click.option("--feed", "feed_name", metavar="NAME", help="Only this feed's articles.")
@click.option(
    "--since", metavar="DATE", help="Only versions seen at or after DATE (ISO 8601, UTC default)."
)
@click.option(
    "--warc",
    "warc_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the raw evidence as a gzipped WARC/1.1 file instead (FILE.warc.gz).",
)
@config_option
def export(
    settings: Settings, feed_name: str | None, since: str | None, warc_file: str | None
) -> None:
    """Every version as JSON Lines on stdout, one version a line; with
    --warc, every stored raw response as WARC records."""
    from feedsvc.export import export_lines, parse_since

    try:
        when = parse_since(since) if since is not None else None
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None
    if feed_name is not None and feed_name not in {f.name for f in settings.feeds}:
        raise UsageError(f"no feed named {feed_name!r} in {settings.path}")
    if warc_file is not None:
        _export_warc(settings, Path(warc_file), feed_name, when)
        return
    out = sys.stdout
    with opened(settings) as store:
        try:
            for line in export_lines(store, feed=feed_name, since=when):
                out.write(line)
        except BrokenPipeError:
            # `feedsvc export | head`: the reader has what it wanted. Point
            # stdout at /dev/null so the final flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _export_warc(settings: Settings, path: Path, feed: str | None, since: datetime | None) -> None:
    """Write the WARC next to its final name and move it into place, so a
    failed export never leaves a truncated file under the name asked for."""
    from feedsvc.warc import warcinfo_fields, write_warc

    partial = path.with_name(path.name + ".partial")
    try:
        with opened(settings) as store, partial.open("wb") as out:
            items = store.iter_evidence(feed=feed, since=since)
            count = write_warc(items, out, filename=path.name, info=warcinfo_fields(feed, since))
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {count} versions' evidence to {path}", err=True)


@main.command()
@click.option("--feed", "feed_name", metavar="NAME", help="Only this feed.")
@click.option(
    "--since",
    metavar="DATE",
    help="Articles first seen, and revisions made, at or after DATE (ISO 8601).",
)
@config_option
def stats(settings: Settings, feed_name: str | None, since: str | None) -> None:
    """How each feed's articles are edited: the table of /stats."""
    from feedsvc.export import parse_since
    from feedsvc.stats import compute, summary_rows

    try:
        when = parse_since(since) if since is not None else None
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None
    names = [f.name for f in settings.feeds]
    if feed_name is not None:
        if feed_name not in names:
            raise UsageError(f"no feed named {feed_name!r} in {settings.path}")
        names = [feed_name]
    with opened(settings) as store:
        figures = compute(store.iter_article_facts(), names, when)
    header = ["", "All feeds", *names]
    rows = [[label, *values] for label, values in summary_rows(figures)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        click.echo("  ".join(cells).rstrip())


@main.command()
@click.argument("url")
@click.option("--feed", "feed_name", metavar="NAME", help="Add to this feed (made if new).")
@click.option("--title", metavar="T", help="Title of a new feed (default: the site's name).")
@click.option("--fetch-articles", is_flag=True, help="Fetch each entry's page for its full text.")
@click.option("--all", "every", is_flag=True, help="Add every feed the page advertises.")
@config_option
def add(
    settings: Settings,
    url: str,
    feed_name: str | None,
    title: str | None,
    fetch_articles: bool,
    every: bool,
) -> None:
    """Follow URL: a feed, a page that advertises feeds, or a page itself."""
    from feedsvc import subscribe

    report = subscribe.add(
        settings, url, feed=feed_name, title=title, fetch_articles=fetch_articles, every=every
    )
    for line in report.lines():
        click.echo(line)


@main.command(name="import")
@click.argument("opml_file", metavar="FILE.opml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--feed", "feed_name", metavar="NAME", help="Put every subscription in this feed.")
@config_option
def import_(settings: Settings, opml_file: Path, feed_name: str | None) -> None:
    """Follow every subscription of an OPML export (categories become feeds)."""
    from feedsvc import subscribe

    for line in subscribe.import_opml(settings, opml_file, feed=feed_name).lines():
        click.echo(line)


@main.command()
@click.argument("url")
@config_option
def remove(settings: Settings, url: str) -> None:
    """Stop following URL (its history stays in the database)."""
    from feedsvc import subscribe

    for feed in subscribe.remove(settings, url):
        click.echo(f"removed {url} from feed {feed!r}")


@main.command()
@click.option("--feed", "feed_name", metavar="NAME", help="Only this feed's sources.")
@config_option
def sources(settings: Settings, feed_name: str | None) -> None:
    """Every source with its state: last poll, last change, next poll, failures."""
    from feedsvc.sources_table import source_table

    if feed_name is not None and feed_name not in {f.name for f in settings.feeds}:
        raise UsageError(f"no feed named {feed_name!r} in {settings.path}")
    with opened(settings) as store:
        for line in source_table(store, settings, feed_name):
            click.echo(line)


@main.command()
@click.argument("query")
@click.option("--feed", "feed_name", metavar="NAME", help="Only this feed's articles.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="One JSON document per hit.")
@config_option
def search(
    settings: Settings, query: str, feed_name: str | None, limit: int, as_json: bool
) -> None:
    """Articles where QUERY appears in any version, current or removed: words,
    "a phrase", prefix*. Exit 1 when nothing is found."""
    from feedsvc.links import Links
    from feedsvc.search_cli import search_command

    if feed_name is not None and feed_name not in {f.name for f in settings.feeds}:
        raise UsageError(f"no feed named {feed_name!r} in {settings.path}")
    with opened(settings) as store:
        links = Links(settings.service.base_url)
        found = search_command(store, links, query, feed=feed_name, limit=limit, as_json=as_json)
    sys.exit(0 if found else 1)


maintenance.register(main)  # feedsvc prune, feedsvc backup

from feedsvc.notify.commands import notify as _notify_commands  # noqa: E402

main.add_command(_notify_commands)
