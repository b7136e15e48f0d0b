"""feedsvc: keep every revision of every article, serve feeds with update history."""

__version__ = "0.1.0"
