"""`feedsvc notify test NAME` and `feedsvc notify status`."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime

import click

from feedsvc.cli_base import config_option, opened
from feedsvc.config import NotifySettings, Settings
from feedsvc.errors import UsageError
from feedsvc.notify import outbox
from feedsvc.notify.message import Change, load_change, sample_change
from feedsvc.storage import Store
from feedsvc.storage.outbox import TargetCounts


@click.group()
def notify() -> None:
    """Notification targets ([[notify]] in the config)."""


def _latest_change(store: Store, target: NotifySettings, feeds: list[str]) -> Change | None:
    """The newest stored edit (a version with a predecessor) in the target's feeds."""
    best = None
    for feed in target.feeds or feeds:
        for entry in store.list_feed_entries(feed, 20):
            if entry.article.latest_version > 1 and (
                best is None or entry.article.updated_at > best.updated_at
            ):
                best = entry.article
    if best is None:
        return None
    return load_change(store, best.id, best.latest_version)


@notify.command()
@click.argument("name")
@config_option
def test(settings: Settings, name: str) -> None:
    """Send a sample message to target NAME now (the newest stored edit in
    its feeds, or a made-up one) and print what happened."""
    from feedsvc.notify.delivery import Deliverer

    try:
        target = settings.target(name)
    except KeyError:
        known = ", ".join(t.name for t in settings.notify) or "none configured"
        raise UsageError(f"no [[notify]] target named {name!r} (targets: {known})") from None
    with opened(settings) as store:
        feeds = [f.name for f in settings.feeds]
        change = _latest_change(store, target, feeds)
        if change is None:
            change = sample_change(target.feeds[0] if target.feeds else "sample", datetime.now(UTC))
        deliverer = Deliverer(settings, store)
        failed = 0
        try:
            for channel in outbox.channels(target):
                label = f"{name}[{channel}]" if target.urls else name
                result = deliverer.send_change(
                    target, channel, f"msg_test_{uuid.uuid4().hex}", change
                )
                if result.ok:
                    status = f" (HTTP {result.status})" if result.status else ""
                    click.echo(f"{label}: delivered{status}")
                else:
                    failed += 1
                    click.echo(f"{label}: failed: {result.error}")
        finally:
            deliverer.close()
    if failed:
        sys.exit(1)


@notify.command()
@config_option
def status(settings: Settings) -> None:
    """Per target: delivered, pending and failed messages; then each
    pending or failed message with its attempts and last error."""
    with opened(settings) as store:
        counts = {c.target: c for c in store.count_messages()}
        rows = store.list_messages()
    click.echo(f"{'target':<20} {'delivered':>9} {'pending':>7} {'retrying':>8} {'failed':>6}")
    for target in settings.notify:
        c = counts.get(target.name, TargetCounts(target.name))
        click.echo(
            f"{target.name:<20} {c.delivered:>9} {c.pending:>7} {c.waiting:>8} {c.failed:>6}"
        )
    if not rows:
        click.echo("nothing pending or failed")
        return
    click.echo("")
    click.echo(
        f"{'state':<8} {'target':<20} {'article':<16} {'ver':>4} {'tries':>5}  next / last error"
    )
    for r in rows:
        when = (
            f"next {r.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC" if r.state == "pending" else "gave up"
        )
        error = f"; {r.last_error}" if r.last_error else ""
        click.echo(
            f"{r.state:<8} {r.target + f'[{r.channel}]':<20} {r.article_id:<16} {r.version:>4} "
            f"{r.attempts:>5}  {when}{error}"
        )
