"""Storage: the only module that talks SQL. See store.Store."""

from feedsvc.storage.store import LeaseLost, Store, article_id

__all__ = ["LeaseLost", "Store", "article_id"]
