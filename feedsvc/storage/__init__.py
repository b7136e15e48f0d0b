"""Storage: the only module that talks SQL. See store.Store."""

from feedsvc.storage.store import LeaseLost, Store, WriteConflict, article_id

__all__ = ["LeaseLost", "Store", "WriteConflict", "article_id"]
