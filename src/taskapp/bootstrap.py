"""The composition root: the one place that builds adapters from Settings and wires them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from taskapp.adapters.clock import SystemClock
from taskapp.adapters.passwords import Argon2PasswordHasher
from taskapp.adapters.postgres.engine import PoolSettings, create_engine
from taskapp.adapters.postgres.errors import translate
from taskapp.adapters.postgres.migrations import head_revision
from taskapp.adapters.postgres.rate_limiter import PostgresRateLimiter
from taskapp.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from taskapp.adapters.tokens import JwtTokenService
from taskapp.config import Settings
from taskapp.domain.errors import DomainError
from taskapp.domain.ports import Clock, PasswordHasher, RateLimiter
from taskapp.domain.services.accounts import AccountService, RateLimitPolicy
from taskapp.domain.services.exports import ExportService
from taskapp.domain.services.history import HistoryService
from taskapp.domain.services.reviews import ReviewService
from taskapp.domain.services.stats import StatsService
from taskapp.domain.services.tasks import TaskService

Closer = Callable[[], Awaitable[None]]


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    clock: Clock
    tokens: JwtTokenService
    accounts: AccountService
    tasks: TaskService
    history: HistoryService
    stats: StatsService
    exports: ExportService
    reviews: ReviewService
    expected_revision: str | None
    closers: list[Closer] = field(default_factory=list)

    async def readiness_problem(self) -> str | None:
        """None when the database answers and its schema is at the latest migration."""
        try:
            async with self.engine.connect() as connection:
                revision = (
                    await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                ).scalar_one_or_none()
        except Exception as error:
            translated = translate(error)
            if isinstance(translated, DomainError):
                return "database unreachable"
            return "database schema is not initialised"
        if revision != self.expected_revision:
            return f"database schema at {revision}, expected {self.expected_revision}"
        return None

    async def close(self) -> None:
        for close in self.closers:
            await close()
        await self.engine.dispose()


def _rate_limiter(
    settings: Settings,
    engine: AsyncEngine,
    clock: Clock,
    closers: list[Closer],
) -> RateLimiter:
    """PostgreSQL by default (nothing more to run); Redis when REDIS_URL is set."""
    if settings.redis_url is None:
        return PostgresRateLimiter(engine, clock)
    from redis.asyncio import Redis

    from taskapp.adapters.redis.rate_limiter import RedisRateLimiter

    client = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    limiter = RedisRateLimiter(client, clock)
    closers.append(limiter.close)
    return limiter


def build_container(
    settings: Settings, clock: Clock | None = None, hasher: PasswordHasher | None = None
) -> Container:
    if settings.database_url is None:
        raise ValueError("the database URL must be resolved before building the container")
    engine = create_engine(
        settings.database_url,
        PoolSettings(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout_seconds=settings.db_pool_timeout_seconds,
            connect_timeout_seconds=settings.db_connect_timeout_seconds,
            statement_timeout_seconds=settings.db_statement_timeout_seconds,
            statement_cache=settings.db_statement_cache,
        ),
    )
    clock = clock or SystemClock()
    tokens = JwtTokenService(
        settings.jwt_secret,
        settings.jwt_issuer,
        settings.jwt_audience,
        timedelta(seconds=settings.access_token_ttl_seconds),
        clock,
    )
    uow = PostgresUnitOfWorkFactory(engine)
    closers: list[Closer] = []
    accounts = AccountService(
        uow=uow,
        hasher=hasher or Argon2PasswordHasher(settings.password_hash_concurrency),
        tokens=tokens,
        clock=clock,
        rate_limiter=_rate_limiter(settings, engine, clock, closers),
        rate_limits=RateLimitPolicy(
            enabled=settings.rate_limit_enabled,
            window_seconds=settings.rate_limit_window_seconds,
            per_address=settings.rate_limit_per_address,
            per_email=settings.rate_limit_per_email,
        ),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    return Container(
        settings=settings,
        engine=engine,
        clock=clock,
        tokens=tokens,
        accounts=accounts,
        tasks=TaskService(uow, clock),
        history=HistoryService(uow),
        stats=StatsService(uow, clock),
        exports=ExportService(uow, clock),
        reviews=ReviewService(uow, clock),
        expected_revision=head_revision(),
        closers=closers,
    )
