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
    from feedsvc.notify.delivery import Attempt, DeliveryLoop


def install(store: Store, settings: Settings) -> None:
    """Have `store` write the outbox rows that `settings`' targets want, in
    the transaction of each version it writes. Called again with a
    reloaded config, it changes the targets of the writer installed before."""
    from feedsvc.notify.outbox import OutboxWriter

    for hook in store.version_hooks:
        if isinstance(hook, OutboxWriter):
            hook.targets = tuple(settings.notify)
            return
    if settings.notify:
        store.version_hooks.append(OutboxWriter(settings.notify))


class Notifications:
    """The notification side of `feedsvc run` and `feedsvc worker`: the
    outbox writer on the store and the background delivery job, both
    following config reloads (a first [[notify]] added to a running service
    starts the job)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.loop: DeliveryLoop | None = None

    def start(self) -> None:
        self.apply_settings(self.settings)

    def apply_settings(self, new: Settings) -> None:
        install(self.store, new)
        self.settings = new
        if self.loop is not None:
            self.loop.apply_settings(new)
        elif new.notify:
            from feedsvc.notify.delivery import Deliverer, DeliveryLoop

            self.loop = DeliveryLoop(Deliverer(new, self.store), new.scheduler.tick)
            self.loop.start()

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.stop()


def deliver_now(settings: Settings, store: Store) -> list[Attempt]:
    """Send what is due now and return (`feedsvc poll`, which has no
    background job): see delivery.deliver_once."""
    if not settings.notify:
        return []
    from feedsvc.notify.delivery import Deliverer, deliver_once

    deliverer = Deliverer(settings, store)
    try:
        return deliver_once(deliverer)
    finally:
        deliverer.close()
