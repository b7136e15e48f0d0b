"""Storage: the only package that talks SQL. See store.Store for the map."""

from feedsvc.storage.conflicts import LeaseLost, WriteConflict
from feedsvc.storage.protocols import HubState, ReadStore, UpdaterStore, WorkQueue
from feedsvc.storage.rows import article_id
from feedsvc.storage.store import Store

__all__ = [
    "HubState",
    "LeaseLost",
    "ReadStore",
    "Store",
    "UpdaterStore",
    "WorkQueue",
    "WriteConflict",
    "article_id",
]
