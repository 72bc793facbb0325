"""Every port in memory, over one store: for unit tests and for library users who want the
use cases without a database. Held to the PostgreSQL adapters by tests/contract."""

from __future__ import annotations

from taskapp.adapters.memory.organising import (
    MemoryLabelReads,
    MemoryListReads,
    MemoryPlacementReads,
)
from taskapp.adapters.memory.reads import (
    MemoryAccountReads,
    MemoryDownloadLog,
    MemoryHistoryReads,
    MemoryIdempotencyKeys,
    MemoryReviewStore,
    MemoryStatsReads,
    MemoryTaskReads,
)
from taskapp.adapters.memory.store import MemoryStore
from taskapp.adapters.memory.sync import (
    MemoryChangeFeed,
    MemoryEventTickets,
    MemoryStreamSlots,
    MemorySyncReads,
)
from taskapp.adapters.memory.unit_of_work import MemoryAccountsUnitOfWork, MemoryTasksUnitOfWork
from taskapp.adapters.memory.webhooks import MemoryWebhooks
from taskapp.adapters.positions import FractionalPositions


class MemoryAdapters:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()
        self.task_reads = MemoryTaskReads(self.store)
        self.history_reads = MemoryHistoryReads(self.store)
        self.stats_reads = MemoryStatsReads(self.store)
        self.account_reads = MemoryAccountReads(self.store)
        self.idempotency_keys = MemoryIdempotencyKeys(self.store)
        self.downloads = MemoryDownloadLog(self.store)
        self.reviews = MemoryReviewStore(self.store)
        self.placement = MemoryPlacementReads(self.store)
        self.list_reads = MemoryListReads(self.store)
        self.label_reads = MemoryLabelReads(self.store)
        self.positions = FractionalPositions()
        self.sync_reads = MemorySyncReads(self.store)
        self.event_tickets = MemoryEventTickets()
        self.change_feed = MemoryChangeFeed(self.store)
        self.webhooks = MemoryWebhooks(self.store)
        self.stream_slots = MemoryStreamSlots()

    def tasks_unit(self) -> MemoryTasksUnitOfWork:
        return MemoryTasksUnitOfWork(self.store)

    def accounts_unit(self) -> MemoryAccountsUnitOfWork:
        return MemoryAccountsUnitOfWork(self.store)
