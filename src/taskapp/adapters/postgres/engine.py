"""Build the async engine (SQLAlchemy on asyncpg) from plain connection settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_ACCEPTED_SCHEMES = ("postgres", "postgresql", "postgresql+asyncpg")


@dataclass(frozen=True, slots=True)
class PoolSettings:
    pool_size: int = 20
    max_overflow: int = 0
    pool_timeout_seconds: float = 5.0
    connect_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 15.0
    statement_cache: bool = True  # off behind PgBouncer in transaction mode


def asyncpg_url(url: str) -> URL:
    """Accept postgres://, postgresql:// and postgresql+asyncpg:// and pin the asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername not in _ACCEPTED_SCHEMES:
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}; use postgresql://"
        )
    return parsed.set(drivername="postgresql+asyncpg")


def create_engine(url: str, pool: PoolSettings | None = None) -> AsyncEngine:
    pool = pool or PoolSettings()
    statement_timeout_ms = int(pool.statement_timeout_seconds * 1000)
    connect_args: dict[str, object] = {
        "timeout": pool.connect_timeout_seconds,
        # asyncpg's own per-query timeout: a little above the server's, as a backstop when
        # the server itself stops answering.
        "command_timeout": pool.statement_timeout_seconds + 1,
        "server_settings": {
            "application_name": "taskapp",
            "statement_timeout": str(statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(max(statement_timeout_ms * 2, 60_000)),
        },
    }
    if not pool.statement_cache:
        connect_args["statement_cache_size"] = 0
    # SQLAlchemy's own prepared-statement cache is a URL option of the asyncpg dialect.
    cache_size = "500" if pool.statement_cache else "0"
    return create_async_engine(
        asyncpg_url(url).update_query_dict({"prepared_statement_cache_size": cache_size}),
        pool_size=pool.pool_size,
        max_overflow=pool.max_overflow,
        pool_timeout=pool.pool_timeout_seconds,
        pool_recycle=1800,
        pool_pre_ping=False,  # a broken connection is detected on use and invalidated
        connect_args=connect_args,
    )
