"""User-supplied regexes ([[feeds]] ignore), compiled with RE2.

An `ignore` pattern runs on every line of every upstream article. Python's
`re` backtracks, so a pattern like `(a+)+$` takes exponential time on a line
an upstream controls; RE2 guarantees time linear in the line, and refuses
what it cannot do that way (backreferences, lookaround), which is then a
config error naming the pattern.
"""

from __future__ import annotations

from typing import Any, Protocol

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # its own error goes to the ConfigError, not stderr


class LinePattern(Protocol):
    """What normalise() needs of a pattern: `search` (RE2's or re's)."""

    @property
    def pattern(self) -> Any: ...

    def search(self, text: str) -> Any: ...


def compile_linear(pattern: str) -> LinePattern:
    """`pattern` compiled with RE2; ValueError with RE2's reason if it
    cannot be run in linear time (or is not a regex at all)."""
    try:
        compiled: LinePattern = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"{pattern!r} is not a valid regular expression (RE2 syntax, which runs in "
            f"linear time: no backreferences or lookaround): {reason}"
        ) from None
    return compiled
