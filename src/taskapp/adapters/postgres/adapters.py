"""Every PostgreSQL adapter over one Database (one asyncpg pool): what bootstrap wires."""

from __future__ import annotations

from taskapp.adapters.positions import FractionalPositions
from taskapp.adapters.postgres.accounts import PostgresAccountsUnitOfWork
from taskapp.adapters.postgres.api_tokens import PostgresApiTokens
from taskapp.adapters.postgres.change_notices import ChangeNotifier
from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.downloads import PostgresDownloadLog
from taskapp.adapters.postgres.history import PostgresHistoryReads
from taskapp.adapters.postgres.idempotency import PostgresIdempotencyKeys
from taskapp.adapters.postgres.labels import PostgresLabelReads
from taskapp.adapters.postgres.lists import PostgresListReads
from taskapp.adapters.postgres.placement import PostgresPlacementReads
from taskapp.adapters.postgres.reviews import PostgresReviewStore
from taskapp.adapters.postgres.sync import (
    PostgresChangeFeed,
    PostgresEventTickets,
    PostgresStreamSlots,
    PostgresSyncReads,
)
from taskapp.adapters.postgres.tasks import (
    PostgresStatsReads,
    PostgresTaskReads,
    PostgresTasksUnitOfWork,
)
from taskapp.adapters.postgres.users import PostgresAccountReads
from taskapp.adapters.postgres.webhooks import PostgresWebhooks


class PostgresAdapters:
    def __init__(self, database: Database, *, long_lived: bool = True) -> None:
        """`long_lived`: the process outlives its requests, so it may hold a LISTEN
        connection (API token revocations, live events); false in a serverless function."""
        self.database = database
        self.task_reads = PostgresTaskReads(database)
        self.history_reads = PostgresHistoryReads(database)
        self.stats_reads = PostgresStatsReads(database)
        self.account_reads = PostgresAccountReads(database)
        self.idempotency_keys = PostgresIdempotencyKeys(database)
        self.downloads = PostgresDownloadLog(database)
        self.reviews = PostgresReviewStore(database)
        self.placement = PostgresPlacementReads(database)
        self.list_reads = PostgresListReads(database)
        self.label_reads = PostgresLabelReads(database)
        self.positions = FractionalPositions()
        self.api_tokens = PostgresApiTokens(database, listen=long_lived)
        self.sync_reads = PostgresSyncReads(database)
        self.event_tickets = PostgresEventTickets(database)
        self.change_feed = PostgresChangeFeed(self.api_tokens.listener)
        # Sends the change notices after the writes commit (change_notices.py).
        self.change_notifier = ChangeNotifier(database, long_lived=long_lived)
        self.webhooks = PostgresWebhooks(database)
        self.stream_slots = PostgresStreamSlots(self.api_tokens.listener)

    def tasks_unit(self) -> PostgresTasksUnitOfWork:
        return PostgresTasksUnitOfWork(self.database, self.change_notifier)

    def accounts_unit(self) -> PostgresAccountsUnitOfWork:
        return PostgresAccountsUnitOfWork(self.database)
