"""A RevisionFilter (feedsvc.filters) as SQL conditions on versions."""

from __future__ import annotations

from typing import Any

from feedsvc.filters import RevisionFilter
from feedsvc.storage.tables import versions


def revision_conditions(flt: RevisionFilter | None) -> list[Any]:
    if flt is None:
        return []
    out: list[Any] = []
    if flt.classes:
        out.append(versions.c.change_class.in_(flt.classes))
    if flt.stealth is not None:
        out.append(versions.c.stealth.is_(flt.stealth))
    if flt.min_words:
        out.append(versions.c.words_added + versions.c.words_removed >= flt.min_words)
    return out
