"""Notifications: tell [[notify]] targets (webhooks, Apprise URLs) about new
versions, delivered at least once from an outbox written with the version.

- targets.py   validate a [[notify]] table (config calls it)
- rules.py     pure: is this version worth telling this target?
- outbox.py    the outbox rows, written in the version's transaction (claims and
               reports: storage/outbox.py)
- message.py   what is said: the context, Jinja templates, the webhook payload, channel limits
- send.py      the only senders: a signed webhook POST (Standard Webhooks), Apprise
- delivery.py  claim, send, record; retries with backoff; a thread per channel
- commands.py  `feedsvc notify test NAME`, `feedsvc notify status`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedsvc.config import Settings
from feedsvc.storage import Store

if TYPE_CHECKING:
    from feedsvc.notify.delivery import DeliveryLoop


def install(store: Store, settings: Settings) -> None:
    """Have `store` write the outbox rows that `settings`' targets want, in
    the transaction of each version it writes."""
    if not settings.notify:
        return
    from feedsvc.notify.outbox import OutboxWriter

    store.version_hooks.append(OutboxWriter(settings.notify))


def start_delivery(settings: Settings, store: Store) -> DeliveryLoop | None:
    """Start the background delivery job, if any target is configured."""
    if not settings.notify:
        return None
    from feedsvc.notify.delivery import Deliverer, DeliveryLoop

    loop = DeliveryLoop(Deliverer(settings, store), settings.scheduler.tick)
    loop.start()
    return loop
