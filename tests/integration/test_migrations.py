"""Migrations: walk up, down and up again on an empty database; they match the metadata."""

from __future__ import annotations

import asyncio
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from taskapp.adapters.postgres import migrations
from taskapp.adapters.postgres.database import sqlalchemy_url
from taskapp.adapters.postgres.tables import metadata
from tests import database


def create_engine(url: str) -> AsyncEngine:
    return create_async_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names)


async def test_upgrade_downgrade_upgrade_on_an_empty_database(postgres_admin_url: str) -> None:
    url = await database.create_database(postgres_admin_url, prefix="taskapp_migrations")
    try:
        await asyncio.to_thread(migrations.upgrade, url)
        assert {t.name for t in metadata.sorted_tables} <= await _tables(url)
        await asyncio.to_thread(migrations.downgrade, url, "base")
        assert await _tables(url) == {"alembic_version"}
        await asyncio.to_thread(migrations.upgrade, url)
        assert {t.name for t in metadata.sorted_tables} <= await _tables(url)
    finally:
        await database.drop_database(postgres_admin_url, url)


async def test_migrations_and_metadata_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert differences == []


async def test_concurrent_upgrades_serialize_on_the_advisory_lock(postgres_admin_url: str) -> None:
    url = await database.create_database(postgres_admin_url, prefix="taskapp_migrations")
    try:
        # Separate processes, as separate instances would be (Alembic's context is global).
        script = "import sys; from taskapp.adapters.postgres import migrations; "
        script += "migrations.upgrade(sys.argv[1])"
        processes = [
            await asyncio.create_subprocess_exec(sys.executable, "-c", script, url)
            for _ in range(3)
        ]
        codes = await asyncio.gather(*(process.wait() for process in processes))
        assert codes == [0, 0, 0]
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                revision = (
                    await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                ).scalar_one()
        finally:
            await engine.dispose()
        assert revision == migrations.head_revision()
    finally:
        await database.drop_database(postgres_admin_url, url)


async def test_0008_keys_existing_accounts_by_their_folded_email(postgres_admin_url: str) -> None:
    url = await database.create_database(postgres_admin_url, prefix="taskapp_migrations")
    engine = create_engine(url)
    try:
        await asyncio.to_thread(migrations.upgrade, url, "0007")
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, password_hash, created_at, updated_at) "
                    "VALUES (gen_random_uuid(), 'Straße@Example.com', 'h', now(), now()), "
                    "(gen_random_uuid(), 'bob@example.com', 'h', now(), now())"
                )
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO idempotency_keys SELECT id, 'k', 'f', 'null'::jsonb, now(), "
                    "now() FROM users LIMIT 1"
                )
            )
        await asyncio.to_thread(migrations.upgrade, url)
        async with engine.connect() as connection:
            keys = (
                await connection.execute(sa.text("SELECT email_key FROM users ORDER BY 1"))
            ).scalars()
            assert list(keys) == ["bob@example.com", "strasse@example.com"]
            null_claims = (
                await connection.execute(
                    sa.text("SELECT count(*) FROM idempotency_keys WHERE task IS NULL")
                )
            ).scalar()
            assert null_claims == 1
        await asyncio.to_thread(migrations.downgrade, url, "0007")
        await asyncio.to_thread(migrations.upgrade, url)
    finally:
        await engine.dispose()
        await database.drop_database(postgres_admin_url, url)
