"""Pick a throwaway PostgreSQL for the test run, in the order the design guide sets.

1. TASKAPP_TEST_DATABASE_URL: an existing server; the run gets its own fresh database.
2. A reachable Docker engine: testcontainers' PostgresContainer.
3. Otherwise: an embedded PostgreSQL (pgserver) in a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from taskapp.adapters.postgres.database import sqlalchemy_url

ENV_VARIABLE = "TASKAPP_TEST_DATABASE_URL"


@cache
def docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


def describe_choice() -> str:
    if os.environ.get(ENV_VARIABLE):
        return f"server from {ENV_VARIABLE} (fresh database per run)"
    if docker_available():
        return "testcontainers PostgresContainer (Docker)"
    return "embedded PostgreSQL (pgserver) in a temporary directory"


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an admin URL (to an existing database) of a server the tests may use."""
    url = os.environ.get(ENV_VARIABLE)
    if url:
        yield url
    elif docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", driver=None) as container:
            yield container.get_connection_url()
    else:
        from taskapp.adapters.embedded_postgres import EmbeddedPostgres

        directory = tempfile.mkdtemp(prefix="taskapp-test-pg-")
        embedded = EmbeddedPostgres(Path(directory) / "data")
        try:
            yield embedded.start()
        finally:
            embedded.stop()
            shutil.rmtree(directory, ignore_errors=True)


def with_database(admin_url: str, name: str) -> str:
    return (
        make_url(sqlalchemy_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    )


async def create_database(admin_url: str, prefix: str = "taskapp_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


async def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(admin_url: str, statement: str) -> None:
    engine = create_async_engine(
        sqlalchemy_url(admin_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()
