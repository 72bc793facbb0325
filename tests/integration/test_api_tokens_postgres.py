"""The PostgreSQL API token store on real PostgreSQL: the limit under concurrency, revocation
reaching another process's cache through LISTEN/NOTIFY, the listener's recovery, and
`last_used_at` written at most once a minute."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from taskapp.adapters.postgres.api_tokens import PostgresApiTokens
from taskapp.adapters.postgres.database import Database, PoolSettings
from taskapp.domain.model.api_tokens import ApiToken, Scope, hash_api_token, new_api_token

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
async def databases(database_url: str) -> AsyncIterator[list[Database]]:
    """Two databases: two processes' worth of pools, caches and listeners."""
    made = [Database(database_url, PoolSettings(pool_size=5)) for _ in range(2)]
    yield made
    for database in made:
        await database.close()


@pytest.fixture
async def stores(databases: list[Database]) -> AsyncIterator[list[PostgresApiTokens]]:
    made = [PostgresApiTokens(database) for database in databases]
    yield made
    for store in made:
        await store.close()


async def _user(engine: AsyncEngine) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO users (id, email, email_key, password_hash, created_at, updated_at) "
                "VALUES (:id, :email, :email, 'x', now(), now())"
            ),
            {"id": user_id, "email": f"{user_id.hex}@example.com"},
        )
    return user_id


def _record(user_id: uuid.UUID, name: str = "ci", **changes: object) -> ApiToken:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "name": name,
        "token_hash": hash_api_token(new_api_token(), b"k" * 32),
        "scopes": frozenset({Scope.TASKS_READ, Scope.HISTORY_READ}),
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=30),
        **changes,
    }
    return ApiToken(**fields)  # type: ignore[arg-type]


async def _eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_add_list_find_and_revoke(
    stores: list[PostgresApiTokens], engine: AsyncEngine
) -> None:
    store = stores[0]
    alice, bob = await _user(engine), await _user(engine)
    first = _record(alice, "first")
    second = _record(alice, "second", created_at=NOW + timedelta(seconds=1), expires_at=None)
    assert await store.add(first, 50)
    assert await store.add(second, 50)
    assert await store.list_for(alice) == [first, second]
    assert await store.list_for(bob) == []
    assert await store.find(first.token_hash) == first
    assert await store.find("0" * 64) is None

    assert not await store.revoke(bob, first.id)  # someone else's token: no such token
    assert await store.revoke(alice, first.id)
    assert not await store.revoke(alice, first.id)
    assert await store.find(first.token_hash) is None
    assert await store.list_for(alice) == [second]


async def test_the_table_keeps_only_the_hash(
    stores: list[PostgresApiTokens], engine: AsyncEngine
) -> None:
    alice = await _user(engine)
    token = new_api_token()
    await stores[0].add(_record(alice, token_hash=hash_api_token(token, b"k" * 32)), 50)
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT * FROM api_tokens"))).all()
    assert rows
    assert all(token not in str(value) for row in rows for value in row)


async def test_concurrent_creates_never_pass_the_limit(
    stores: list[PostgresApiTokens], engine: AsyncEngine
) -> None:
    alice = await _user(engine)
    results = await asyncio.gather(
        *(stores[n % 2].add(_record(alice, f"t{n}"), 5) for n in range(20))
    )
    assert results.count(True) == 5
    assert len(await stores[0].list_for(alice)) == 5


async def test_a_revocation_reaches_another_process_cache_at_once(
    stores: list[PostgresApiTokens], engine: AsyncEngine
) -> None:
    here, there = stores
    alice = await _user(engine)
    token = _record(alice)
    await here.add(token, 50)
    assert await there.find(token.token_hash) == token  # cached over there, listener started
    await _eventually(lambda: there.listener.connected and there.cache.trusted)
    assert await there.find(token.token_hash) == token
    assert len(there.cache) == 1

    assert await here.revoke(alice, token.id)
    # `revoke` returned after the notice went out: the other process has it (give its loop a
    # moment to read the socket; it needs no database round trip).
    await _eventually(lambda: len(there.cache) == 0, seconds=1.0)
    assert await there.find(token.token_hash) is None


async def test_rows_deleted_any_other_way_are_forgotten_too(
    stores: list[PostgresApiTokens], engine: AsyncEngine
) -> None:
    store = stores[0]
    alice = await _user(engine)
    token = _record(alice)
    await store.add(token, 50)
    await store.find(token.token_hash)
    await _eventually(lambda: store.listener.connected and len(store.cache) == 0)
    await store.find(token.token_hash)  # cached again, now that the listener vouches
    assert len(store.cache) == 1
    async with engine.begin() as connection:  # the user goes, and their tokens with them
        await connection.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": alice})
    await _eventually(lambda: len(store.cache) == 0, seconds=2.0)


async def test_the_listener_comes_back_and_distrusts_the_cache_meanwhile(
    stores: list[PostgresApiTokens], engine: AsyncEngine
) -> None:
    store = stores[0]
    alice = await _user(engine)
    token = _record(alice)
    await store.add(token, 50)
    await store.find(token.token_hash)
    await _eventually(lambda: store.listener.connected and store.cache.trusted)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'taskapp-listener' AND datname = current_database()"
            )
        )
    await _eventually(lambda: not store.cache.trusted, seconds=10)
    await _eventually(lambda: store.listener.connected and store.cache.trusted, seconds=10)
    assert await store.find(token.token_hash) == token


async def test_last_used_at_is_written_at_most_once_a_minute(
    stores: list[PostgresApiTokens], engine: AsyncEngine
) -> None:
    here, there = stores
    alice = await _user(engine)
    token = _record(alice)
    await here.add(token, 50)

    async def last_used(expected: datetime) -> datetime | None:
        """The stored value once it is `expected` (the writes run in the background; a
        loaded machine may take a while), or whatever it is after 5 s."""
        for _ in range(50):
            found = (await here.list_for(alice))[0].last_used_at
            if found == expected:
                return found
            await asyncio.sleep(0.1)
        return found

    here.record_use(token.id, NOW)
    assert await last_used(NOW) == NOW
    there.record_use(token.id, NOW + timedelta(seconds=30))  # another process, too soon
    await asyncio.sleep(0.5)
    assert (await here.list_for(alice))[0].last_used_at == NOW
    there.record_use(token.id, NOW + timedelta(seconds=61))
    assert await last_used(NOW + timedelta(seconds=61)) == NOW + timedelta(seconds=61)
