"""Errors a user or an upstream can cause. Each carries one line for a human."""

from __future__ import annotations


class FeedsvcError(Exception):
    """Base of every error feedsvc reports to a person instead of a traceback."""

    exit_code = 1


class ConfigError(FeedsvcError):
    """config.toml is missing, unreadable or wrong. Exit status 2."""

    exit_code = 2


class UsageError(FeedsvcError):
    """A command-line argument is wrong (a bad date, say). Exit status 2."""

    exit_code = 2


class NotFound(FeedsvcError):
    """An article, version or feed that does not exist."""


class FetchError(FeedsvcError):
    """An upstream could not be fetched or gave an answer we refuse.

    `retry_after` is the server's own word on when to come back (seconds);
    `gone` means the upstream said 410 and the source stops.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        gone: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.gone = gone


class FetchRefused(FetchError):
    """The fetch policy refused the address a URL leads to (fetch_policy.py)."""


class ParseError(FeedsvcError):
    """A body could not be read as a feed, a page or a file."""
