"""Shared fixtures: one throwaway PostgreSQL per run, migrated once, cleaned per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from taskapp.adapters.postgres import migrations
from taskapp.adapters.postgres.database import sqlalchemy_url
from taskapp.adapters.postgres.tables import metadata
from tests import database


def pytest_report_header() -> str:
    return f"taskapp test database: {database.describe_choice()}"


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with database.postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
async def database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    url = await database.create_database(postgres_admin_url)
    try:
        await asyncio.to_thread(migrations.upgrade, url)
        yield url
    finally:
        await database.drop_database(postgres_admin_url, url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(sqlalchemy_url(database_url), pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_tables(engine: AsyncEngine) -> None:
    """Empty every table before the test: each test starts from a migrated, empty schema.

    The history refuses TRUNCATE (append-only); a superuser's replica mode skips triggers.
    """
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        await connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
