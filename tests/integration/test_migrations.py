"""Migrations: walk up, down and up again on an empty database; they match the metadata."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

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


async def _scalar_rows(engine: AsyncEngine, sql: str, **params: object) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(sa.text(sql), params)).all()]


async def test_0010_keeps_existing_tasks_valid_in_todays_order(postgres_admin_url: str) -> None:
    from taskapp.adapters.positions import FractionalPositions

    url = await database.create_database(postgres_admin_url, prefix="taskapp_migrations")
    engine = create_engine(url)
    try:
        await asyncio.to_thread(migrations.upgrade, url, "0009")
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, email_key, password_hash, created_at, "
                    "updated_at) SELECT gen_random_uuid(), 'u' || n || '@example.com', "
                    "'u' || n || '@example.com', 'h', now(), now() FROM generate_series(1, 3) n"
                )
            )
            # 40 tasks per user: every third completed, created_at with ties (same minute
            # for pairs), so the order needs the id to break them.
            await connection.execute(
                sa.text(
                    "INSERT INTO tasks (id, user_id, title, description, is_completed, "
                    "completed_at, created_at, updated_at, version) "
                    "SELECT gen_random_uuid(), u.id, 'task ' || n, NULL, n % 3 = 0, "
                    "CASE WHEN n % 3 = 0 THEN now() END, "
                    "timestamptz '2026-01-01' + (n / 2) * interval '1 minute', now(), 1 "
                    "FROM users u, generate_series(1, 40) n"
                )
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO task_history (id, user_id, task_id, task_title, action_type, "
                    "description, changes, created_at) SELECT gen_random_uuid(), user_id, id, "
                    "title, 'CREATED', 'Created task', NULL, created_at FROM tasks"
                )
            )
        await asyncio.to_thread(migrations.upgrade, url)

        async def check_upgraded(history_rows: int) -> None:
            rows = await _scalar_rows(
                engine,
                "SELECT count(*), count(*) FILTER (WHERE list_id IS NULL AND parent_id IS NULL "
                "AND priority = 'none' AND labels = '{}' AND label_keys = '{}' "
                "AND due_date IS NULL AND due_at IS NULL) FROM tasks",
            )
            assert rows == [(120, 120)]
            users = [r[0] for r in await _scalar_rows(engine, "SELECT id FROM users")]
            for user in users:
                by_position = await _scalar_rows(
                    engine,
                    'SELECT id FROM tasks WHERE user_id = :u ORDER BY position COLLATE "C"',
                    u=user,
                )
                v1_order = await _scalar_rows(
                    engine,
                    "SELECT id FROM tasks WHERE user_id = :u "
                    "ORDER BY is_completed, created_at DESC, id DESC",
                    u=user,
                )
                assert by_position == v1_order
                positions = [
                    r[0]
                    for r in await _scalar_rows(
                        engine,
                        "SELECT position FROM tasks WHERE user_id = :u "
                        'ORDER BY position COLLATE "C"',
                        u=user,
                    )
                ]
                assert len(set(positions)) == len(positions)
                # The application's keys fit around the migrated ones.
                keys = FractionalPositions()
                first, last = str(positions[0]), str(positions[-1])
                assert keys.between(None, first) < first
                assert last < keys.between(last, None)
                assert first < keys.between(first, str(positions[1])) < str(positions[1])
                assert last < keys.for_new(datetime.now(UTC))
            history = await _scalar_rows(engine, "SELECT count(*) FROM task_history")
            assert history == [(history_rows,)]

        await check_upgraded(120)
        # Organise some rows, then walk down and up again.
        async with engine.begin() as connection:
            user = (await connection.execute(sa.text("SELECT id FROM users LIMIT 1"))).scalar()
            await connection.execute(
                sa.text(
                    "INSERT INTO lists (id, user_id, name, name_key, position, created_at, "
                    "updated_at, version) VALUES (gen_random_uuid(), :u, 'Work', 'work', 'a0', "
                    "now(), now(), 1)"
                ),
                {"u": user},
            )
            await connection.execute(
                sa.text(
                    "UPDATE tasks SET list_id = (SELECT id FROM lists), labels = '{x}', "
                    "label_keys = '{x}', priority = 'high' WHERE user_id = :u"
                ),
                {"u": user},
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO task_history (id, user_id, task_id, task_title, action_type, "
                    "description, changes, created_at) SELECT gen_random_uuid(), user_id, id, "
                    "title, 'MOVED', 'Moved task', '{}'::jsonb, now() FROM tasks "
                    "WHERE user_id = :u"
                ),
                {"u": user},
            )
            counts = await connection.execute(
                sa.text("SELECT open_count, completed_count FROM lists")
            )
            assert tuple(counts.one()) == (27, 13)
        await asyncio.to_thread(migrations.downgrade, url, "0009")
        assert await _scalar_rows(engine, "SELECT count(*) FROM tasks") == [(120,)]
        assert await _scalar_rows(engine, "SELECT count(*) FROM task_history") == [(160,)]
        await asyncio.to_thread(migrations.upgrade, url)
        await check_upgraded(160)
    finally:
        await engine.dispose()
        await database.drop_database(postgres_admin_url, url)
