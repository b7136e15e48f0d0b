"""Store: every read and write of feedsvc's database, on SQLite or PostgreSQL,
assembled from one module per concern:

- engine.py: the engine, migrations, write transactions
- queue.py: sources and article pages due, claimed under leases
- writes.py: poll and check writes (articles, versions, raw responses, events)
- lookups.py: what the updater reads before it decides
- reads.py / article_reads.py: read models for the web, the CLI and /healthz
- evidence.py: bulk reads for the WARC export and the statistics
- hub.py: WebSub ping state
- outbox.py: notification messages, claimed under leases
- search.py: the full-text index of every version, and search over it
- rows.py: row mappers; conflicts.py: LeaseLost and WriteConflict

Callers that need only a part take it by its Protocol (protocols.py): the
updater's `UpdaterStore`, the web's read-only `ReadStore`, the hub's
`HubState`.
"""

from __future__ import annotations

from feedsvc.storage.article_reads import ArticleReads
from feedsvc.storage.evidence import EvidenceReads
from feedsvc.storage.hub import HubStore
from feedsvc.storage.lookups import LookupStore
from feedsvc.storage.outbox import OutboxStore
from feedsvc.storage.queue import QueueStore
from feedsvc.storage.reads import FeedReads
from feedsvc.storage.search import SearchStore
from feedsvc.storage.writes import WriteStore


class Store(
    OutboxStore,
    QueueStore,
    WriteStore,
    LookupStore,
    FeedReads,
    ArticleReads,
    EvidenceReads,
    HubStore,
    SearchStore,
):
    """The whole database: a worker, the CLI and tests use all of it."""
