"""What only PostgreSQL can show: constraints, triggers, concurrency between connections.

The behaviour the in-memory adapters share is in tests/contract."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from taskapp.adapters.postgres.adapters import PostgresAdapters
from taskapp.adapters.postgres.database import Database, PoolSettings
from taskapp.adapters.postgres.rate_limiter import PostgresRateLimiter
from taskapp.adapters.postgres.tables import refresh_tokens, reviews, tasks, users
from taskapp.adapters.tokens import JwtTokenService
from taskapp.domain.errors import InvalidCredentials, StaleWrite, ValidationFailed
from taskapp.domain.model import (
    ActionType,
    ClaimStatus,
    HistoryEntry,
    HistoryQuery,
    PageRequest,
    RefreshToken,
    Review,
    Task,
    User,
)
from taskapp.domain.services.accounts import AccountService, RateLimitPolicy
from taskapp.domain.services.tasks import TaskService
from tests.unit.fakes import FixedClock, PlainHasher

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, PoolSettings(pool_size=5))
    yield db
    await db.close()


@pytest.fixture
async def adapters(database: Database) -> AsyncIterator[PostgresAdapters]:
    adapters = PostgresAdapters(database)
    yield adapters
    await adapters.change_notifier.close()  # its connection, if a write opened one


async def add_user(adapters: PostgresAdapters, email: str = "ada@example.com") -> User:
    user = User(uuid.uuid4(), email, None, "plain:old password!", NOW, NOW)
    async with adapters.accounts_unit() as unit:
        await unit.users.add(user)
        await unit.commit()
    return user


def task_service(adapters: PostgresAdapters) -> TaskService:
    return TaskService(
        adapters.tasks_unit,
        adapters.task_reads,
        adapters.idempotency_keys,
        FixedClock(),
        adapters.placement,
        adapters.list_reads,
        adapters.positions,
    )


@pytest.mark.parametrize(
    ("table", "entity"),
    [(tasks, Task), (refresh_tokens, RefreshToken), (reviews, Review), (users, User)],
)
def test_each_table_has_its_entitys_fields(table: sa.Table, entity: type) -> None:
    """One source for each shape: the entity. (users adds the derived `email_key`.)"""
    columns = [c.name for c in table.columns if c.name not in ("email_key", "label_keys")]
    assert columns == [f.name for f in fields(entity)]


async def test_a_write_the_database_refuses_leaves_nothing(adapters: PostgresAdapters) -> None:
    user = await add_user(adapters)
    task = Task.create(user.id, "half", None, NOW)
    broken = replace(HistoryEntry.record(task, ActionType.CREATED, NOW), task_title="\x00")

    async def write_both() -> None:
        async with adapters.tasks_unit() as unit:
            await unit.tasks.add(task)
            await unit.history.append(broken)
            await unit.commit()

    with pytest.raises(ValidationFailed):
        await write_both()
    assert await adapters.task_reads.get(user.id, task.id) is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE task_history SET description = 'x'",
        "DELETE FROM task_history",
        "TRUNCATE task_history",
        "TRUNCATE task_history CASCADE",
    ],
)
async def test_history_is_append_only(
    adapters: PostgresAdapters, engine: AsyncEngine, statement: str
) -> None:
    await task_service(adapters).create((await add_user(adapters)).id, "t", None)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(sa.text(statement))
    async with engine.connect() as connection:
        count = (await connection.execute(sa.text("SELECT count(*) FROM task_history"))).scalar()
    assert count == 1


async def test_concurrent_claims_of_one_key_let_one_through(adapters: PostgresAdapters) -> None:
    user = await add_user(adapters)
    results = await asyncio.gather(
        *(adapters.idempotency_keys.claim(user.id, "race", "f", NOW, 3600) for _ in range(6))
    )
    statuses = [r.status for r in results]
    assert statuses.count(ClaimStatus.CLAIMED) == 1
    assert statuses.count(ClaimStatus.IN_PROGRESS) == 5


async def test_a_claim_in_progress_is_sql_null_so_release_finds_it(
    adapters: PostgresAdapters, engine: AsyncEngine
) -> None:
    """Issue 13.1: the claim was stored as JSON null, and release (`task IS NULL`) missed it."""
    user = await add_user(adapters)
    await adapters.idempotency_keys.claim(user.id, "k", "f", NOW, 3600)
    async with engine.connect() as connection:
        stored = (
            await connection.execute(sa.text("SELECT task IS NULL FROM idempotency_keys"))
        ).scalar()
    assert stored is True
    await adapters.idempotency_keys.release(user.id, "k")
    claim = await adapters.idempotency_keys.claim(user.id, "k", "f", NOW, 3600)
    assert claim.status is ClaimStatus.CLAIMED


async def test_a_failed_keyed_create_frees_its_key(
    adapters: PostgresAdapters, engine: AsyncEngine
) -> None:
    """Issue 13.1 from the use case: the create fails (the database refuses it); the same
    request with the same key then goes through instead of answering "in progress"."""
    user = await add_user(adapters)
    service = task_service(adapters)
    async with engine.begin() as connection:  # make the next history insert fail
        await connection.execute(
            sa.text("ALTER TABLE task_history ADD CONSTRAINT no_fail CHECK (task_title <> 'fail')")
        )
    try:
        with pytest.raises(ValidationFailed):
            await service.create(user.id, "fail", None, "K")
    finally:
        async with engine.begin() as connection:
            await connection.execute(sa.text("ALTER TABLE task_history DROP CONSTRAINT no_fail"))
    created = await service.create(user.id, "fail", None, "K")
    assert not created.replayed
    assert (await service.create(user.id, "fail", None, "K")).replayed


async def test_refresh_token_is_spent_once_under_concurrency(adapters: PostgresAdapters) -> None:
    user = await add_user(adapters)
    token = RefreshToken(uuid.uuid4(), user.id, uuid.uuid4(), "h", NOW, NOW + timedelta(days=1))
    async with adapters.accounts_unit() as unit:
        await unit.refresh_tokens.add(token)
        await unit.commit()

    async def spend() -> bool:
        async with adapters.accounts_unit() as unit:
            spent = await unit.refresh_tokens.spend("h", NOW)
            await unit.commit()
        return spent is not None

    assert sorted(await asyncio.gather(*(spend() for _ in range(6)))) == [False] * 5 + [True]


async def test_rate_limiter_counts_across_calls_and_resets(database: Database) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC))
    limiter = PostgresRateLimiter(database, clock)
    assert [await limiter.hit("k", 2, 60) for _ in range(3)] == [None, None, 50]
    clock.advance(seconds=60)
    assert await limiter.hit("k", 2, 60) is None


async def test_fifty_parallel_toggles_of_one_task_keep_every_invariant(
    adapters: PostgresAdapters, engine: AsyncEngine
) -> None:
    """Optimistic concurrency under contention: every toggle lands exactly once, with one
    history entry, seq in commit order, and counters that match the rows."""
    user = await add_user(adapters)
    service = task_service(adapters)
    task = (await service.create(user.id, "contended", None)).task
    results = await asyncio.gather(*(service.toggle(user.id, task.id) for _ in range(50)))
    final = await service.get(user.id, task.id)
    assert final.version == 51
    assert sorted(r.version for r in results) == list(range(2, 52))
    assert final.is_completed is False  # an even number of toggles
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.text(
                    "SELECT action_type, seq, xmin::text::bigint AS tx FROM task_history"
                    " WHERE user_id = :u ORDER BY seq"
                ),
                {"u": user.id},
            )
        ).all()
        counts = (
            await connection.execute(
                sa.text(
                    "SELECT total, created, completed, reopened FROM history_counts"
                    " WHERE user_id = :u"
                ),
                {"u": user.id},
            )
        ).one()
        open_, done = (
            await connection.execute(
                sa.text("SELECT sum(open), sum(completed) FROM task_counts WHERE user_id = :u"),
                {"u": user.id},
            )
        ).one()
    actions = [row.action_type for row in rows]
    assert actions == ["CREATED"] + ["COMPLETED", "REOPENED"] * 25  # alternating, in seq order
    assert tuple(counts) == (51, 1, 25, 25)
    assert (open_, done) == (1, 0)
    history = await adapters.history_reads.list(user.id, HistoryQuery(), PageRequest(0, 100))
    assert history is not None
    assert history.total == 51


async def test_a_login_racing_a_password_change_gets_no_lasting_session(
    adapters: PostgresAdapters,
) -> None:
    """Issue 13.2: the login verified the old password against a hash read before the
    change and stored its refresh token after it; that session outlived the change."""
    verifying = asyncio.Event()
    changed = asyncio.Event()

    class SlowHasher(PlainHasher):
        async def verify(self, password_hash: str, password: str) -> bool:
            if password == "old password!" and not verifying.is_set():
                verifying.set()
                await changed.wait()  # the change lands while this login verifies
            return await super().verify(password_hash, password)

    clock = FixedClock()
    tokens = JwtTokenService("k" * 32, "taskapp", "taskapp-api", timedelta(minutes=15), clock)
    accounts = AccountService(
        uow=adapters.accounts_unit,
        reads=adapters.account_reads,
        hasher=SlowHasher(),
        tokens=tokens,
        clock=clock,
        rate_limiter=PostgresRateLimiter(adapters.database, clock),
        rate_limits=RateLimitPolicy(enabled=False),
        refresh_ttl=timedelta(days=30),
    )
    user = await accounts.register("ada@example.com", "old password!", None, "127.0.0.1")
    racing_login = asyncio.create_task(accounts.login("ada@example.com", "old password!", "x"))
    await verifying.wait()
    await accounts.change_password(user.id, "old password!", "new password!")
    changed.set()
    with pytest.raises(InvalidCredentials):
        await racing_login
    pair = await accounts.login("ada@example.com", "new password!", "x")
    assert pair.refresh_token


async def test_a_many_row_write_that_finds_one_row_changed_writes_none(
    adapters: PostgresAdapters,
) -> None:
    """Guarded writes of several rows are all or nothing: one task at a newer version makes
    the whole unit fail with StaleWrite and leaves the other tasks and the history as they
    were (inside one statement, the rows that matched would have landed)."""
    user = await add_user(adapters)
    service = task_service(adapters)
    first = (await service.create(user.id, "a", None)).task
    second = (await service.create(user.id, "b", None)).task
    await service.toggle(user.id, second.id)  # second is now at version 2
    now = datetime.now(UTC)
    changes = [(t.toggle(now), t.version) for t in (first, second)]  # second decided on v1

    async def write_both() -> None:
        async with adapters.tasks_unit() as unit:
            await unit.tasks.update_many(changes)
            await unit.history.append_many(
                [HistoryEntry.record(t, ActionType.COMPLETED, now) for t, _ in changes]
            )
            await unit.commit()

    with pytest.raises(StaleWrite):
        await write_both()
    assert await adapters.task_reads.get(user.id, first.id) == first
    history = await adapters.history_reads.list(user.id, HistoryQuery(), PageRequest())
    assert history is not None
    assert history.total == 3  # two CREATED, one COMPLETED: nothing from the failed unit
