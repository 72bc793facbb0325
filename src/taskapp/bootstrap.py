"""The composition root: the one place that builds adapters from Settings and wires them."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from taskapp.adapters.clock import SystemClock
from taskapp.adapters.passwords import Argon2PasswordHasher
from taskapp.adapters.postgres.adapters import PostgresAdapters
from taskapp.adapters.postgres.database import Database, PoolSettings
from taskapp.adapters.postgres.migrations import head_revision
from taskapp.adapters.postgres.rate_limiter import PostgresRateLimiter
from taskapp.adapters.postgres.readiness import readiness_problem
from taskapp.adapters.tokens import JwtTokenService
from taskapp.adapters.webhook_http import HttpWebhookTargets
from taskapp.config import Settings
from taskapp.domain.model.webhooks import RetryPolicy
from taskapp.domain.ports import Clock, PasswordHasher, RateLimiter
from taskapp.domain.ports.sync import ChangeFeed
from taskapp.domain.ports.webhooks import EventPayloads
from taskapp.domain.services.accounts import AccountService, RateLimitPolicy
from taskapp.domain.services.api_tokens import ApiTokenService
from taskapp.domain.services.exports import ExportService
from taskapp.domain.services.history import HistoryService
from taskapp.domain.services.imports import ImportService
from taskapp.domain.services.labels import LabelService
from taskapp.domain.services.lists import ListService
from taskapp.domain.services.reviews import ReviewService
from taskapp.domain.services.stats import StatsService
from taskapp.domain.services.sync import SyncService
from taskapp.domain.services.tasks import TaskService
from taskapp.domain.services.webhooks import WebhookDispatcher, WebhookService

Closer = Callable[[], Awaitable[None]]

READINESS_TIMEOUT_SECONDS = 2.0


@dataclass
class Container:
    database: Database
    clock: Clock
    tokens: JwtTokenService
    accounts: AccountService
    tasks: TaskService
    lists: ListService
    labels: LabelService
    history: HistoryService
    stats: StatsService
    exports: ExportService
    imports: ImportService
    reviews: ReviewService
    api_tokens: ApiTokenService
    expected_revision: str | None
    sync: SyncService
    webhooks: WebhookService
    # Delivers webhooks; every serving process runs it (entrypoints/webhook_delivery.py).
    dispatcher: WebhookDispatcher
    # Notices of committed changes (the delivery loop wakes on them).
    change_feed: ChangeFeed
    closers: list[Closer] = field(default_factory=list)
    # Ends every open event stream and refuses new ones (shutdown has begun).
    end_event_streams: Callable[[], None] = lambda: None

    async def readiness_problem(self) -> str | None:
        """None when the database answers (within 2 s) and its schema is at the latest
        migration."""
        return await readiness_problem(
            self.database, self.expected_revision, READINESS_TIMEOUT_SECONDS
        )

    async def close(self) -> None:
        for close in self.closers:
            await close()
        await self.database.close()


def _rate_limiter(
    settings: Settings, database: Database, clock: Clock, closers: list[Closer]
) -> RateLimiter:
    """PostgreSQL by default (nothing more to run); Redis when REDIS_URL is set."""
    if settings.redis_url is None:
        return PostgresRateLimiter(database, clock)
    from redis.asyncio import Redis

    from taskapp.adapters.redis.rate_limiter import RedisRateLimiter

    client = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    limiter = RedisRateLimiter(client, clock)
    closers.append(limiter.close)
    return limiter


def api_token_hash_key(jwt_secret: str) -> bytes:
    """The API tokens' HMAC key, derived from JWT_SECRET for its own purpose (the raw secret
    never keys two things). Changing JWT_SECRET therefore invalidates every API token."""
    return hmac.new(jwt_secret.encode(), b"taskapp api-token hash key v1", hashlib.sha256).digest()


def build_container(
    settings: Settings,
    payloads: EventPayloads,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    *,
    long_lived: bool = True,
) -> Container:
    """`payloads` encodes webhook bodies in the API's shapes (the HTTP layer owns those).
    Nothing here connects: the pool opens connections on first use. `long_lived=False`
    (serverless) starts no background work that would outlive a request."""
    if settings.database_url is None:
        raise ValueError("the database URL must be resolved before building the container")
    database = Database(
        settings.database_url,
        PoolSettings(
            pool_size=settings.db_pool_size,
            pool_timeout_seconds=settings.db_pool_timeout_seconds,
            connect_timeout_seconds=settings.db_connect_timeout_seconds,
            statement_timeout_seconds=settings.db_statement_timeout_seconds,
            statement_cache=settings.db_statement_cache,
            transaction_pooler=settings.behind_transaction_pooler,
        ),
        direct_url=settings.database_direct_url,
    )
    adapters = PostgresAdapters(database, long_lived=long_lived)
    clock = clock or SystemClock()
    tokens = JwtTokenService(
        settings.jwt_secret,
        settings.jwt_issuer,
        settings.jwt_audience,
        timedelta(seconds=settings.access_token_ttl_seconds),
        clock,
    )
    closers: list[Closer] = []

    async def end_event_streams() -> None:  # first: open streams end, clients resume
        adapters.change_feed.close()

    closers.append(end_event_streams)
    closers.append(adapters.change_notifier.close)
    closers.append(adapters.api_tokens.close)
    targets = HttpWebhookTargets(
        allow_private=settings.webhook_allow_private_targets,
        timeout=timedelta(seconds=settings.webhook_timeout_seconds),
    )
    closers.append(targets.close)
    accounts = AccountService(
        uow=adapters.accounts_unit,
        reads=adapters.account_reads,
        hasher=hasher or Argon2PasswordHasher(settings.password_hash_concurrency),
        tokens=tokens,
        clock=clock,
        rate_limiter=_rate_limiter(settings, database, clock, closers),
        rate_limits=RateLimitPolicy(
            enabled=settings.rate_limit_enabled,
            window_seconds=settings.rate_limit_window_seconds,
            per_address=settings.rate_limit_per_address,
            per_email=settings.rate_limit_per_email,
        ),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    return Container(
        database=database,
        clock=clock,
        tokens=tokens,
        accounts=accounts,
        tasks=TaskService(
            adapters.tasks_unit,
            adapters.task_reads,
            adapters.idempotency_keys,
            clock,
            adapters.placement,
            adapters.list_reads,
            adapters.positions,
        ),
        lists=ListService(
            adapters.tasks_unit,
            adapters.list_reads,
            adapters.placement,
            adapters.positions,
            clock,
        ),
        labels=LabelService(adapters.tasks_unit, adapters.label_reads, clock),
        history=HistoryService(adapters.history_reads),
        stats=StatsService(adapters.stats_reads, clock),
        exports=ExportService(adapters.task_reads, adapters.downloads, clock, adapters.list_reads),
        imports=ImportService(adapters.tasks_unit, adapters.list_reads, adapters.positions, clock),
        reviews=ReviewService(adapters.reviews, clock),
        api_tokens=ApiTokenService(
            adapters.api_tokens, adapters.api_tokens, clock, api_token_hash_key(settings.jwt_secret)
        ),
        expected_revision=head_revision(),
        sync=SyncService(
            adapters.sync_reads,
            adapters.event_tickets,
            adapters.change_feed,
            adapters.stream_slots,
            clock,
            heartbeat_seconds=settings.events_heartbeat_seconds,
        ),
        webhooks=WebhookService(
            adapters.webhooks,
            targets,
            adapters.sync_reads,
            payloads,
            clock,
            allow_http=settings.webhook_allow_private_targets,
        ),
        dispatcher=WebhookDispatcher(
            adapters.webhooks,
            adapters.sync_reads,
            targets,
            payloads,
            clock,
            policy=RetryPolicy(
                base=timedelta(seconds=settings.webhook_retry_base_seconds),
                window=timedelta(seconds=settings.webhook_retry_window_seconds),
            ),
            timeout=timedelta(seconds=settings.webhook_timeout_seconds),
        ),
        change_feed=adapters.change_feed,
        closers=closers,
        end_event_streams=adapters.change_feed.close,
    )
