"""The same contract for the in-memory and the PostgreSQL adapters: each test runs on both,
so the fakes the unit tests rely on cannot drift from the real thing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from taskapp.adapters.memory.adapters import MemoryAdapters
from taskapp.adapters.postgres.adapters import PostgresAdapters
from taskapp.adapters.postgres.database import Database, PoolSettings


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, PoolSettings(pool_size=5))
    yield db
    await db.close()


@pytest.fixture(params=["memory", "postgres"])
def adapters(request: pytest.FixtureRequest) -> MemoryAdapters | PostgresAdapters:
    if request.param == "memory":
        return MemoryAdapters()
    request.getfixturevalue("clean_tables")
    return PostgresAdapters(request.getfixturevalue("database"))


@pytest.fixture(autouse=True)
async def _change_notifier_closed(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After each test: the PostgreSQL adapters' change notifier closed (with its connection,
    if a write opened one)."""
    yield
    adapters = request.node.funcargs.get("adapters")
    if isinstance(adapters, PostgresAdapters):
        await adapters.change_notifier.close()
