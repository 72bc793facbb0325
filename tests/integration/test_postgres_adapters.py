"""The PostgreSQL adapters against a real database: repositories, constraints, locking."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from taskapp.adapters.postgres.rate_limiter import PostgresRateLimiter
from taskapp.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from taskapp.domain.errors import EmailAlreadyRegistered, ValidationFailed
from taskapp.domain.model import (
    ActionType,
    ClaimStatus,
    HistoryEntry,
    PageRequest,
    RefreshToken,
    Task,
    TaskQuery,
    TaskStatus,
    User,
)
from tests.unit.fakes import FixedClock

NOW = datetime.now(UTC)


@pytest.fixture
def uow(engine: AsyncEngine) -> PostgresUnitOfWorkFactory:
    return PostgresUnitOfWorkFactory(engine)


async def add_user(uow: PostgresUnitOfWorkFactory, email: str = "ada@example.com") -> User:
    user = User(uuid.uuid4(), email, None, "hash", NOW, NOW)
    async with uow() as work:
        await work.users.add(user)
        await work.commit()
    return user


async def add_task(uow: PostgresUnitOfWorkFactory, user: User, title: str = "t") -> Task:
    task = Task.create(user.id, title, None, NOW)
    async with uow() as work:
        await work.tasks.add(task)
        await work.history.append(HistoryEntry.record(task, ActionType.CREATED, NOW))
        await work.commit()
    return task


async def test_users_are_unique_case_insensitively(uow: PostgresUnitOfWorkFactory) -> None:
    user = await add_user(uow)
    with pytest.raises(EmailAlreadyRegistered):
        await add_user(uow, "ADA@example.com")
    async with uow() as work:
        assert await work.users.get_by_email("Ada@Example.COM") == user


async def test_uncommitted_work_is_rolled_back(uow: PostgresUnitOfWorkFactory) -> None:
    user = await add_user(uow)
    task = Task.create(user.id, "never", None, NOW)
    async with uow() as work:
        await work.tasks.add(task)
    async with uow() as work:
        assert await work.tasks.get(user.id, task.id) is None


async def test_an_error_inside_the_unit_rolls_back_both_writes(
    uow: PostgresUnitOfWorkFactory,
) -> None:
    user = await add_user(uow)
    task = Task.create(user.id, "half", None, NOW)
    # A value the database refuses, in the second of the two writes.
    broken = replace(HistoryEntry.record(task, ActionType.CREATED, NOW), task_title="\x00")

    async def write_both() -> None:
        async with uow() as work:
            await work.tasks.add(task)
            await work.history.append(broken)
            await work.commit()

    with pytest.raises(ValidationFailed):
        await write_both()
    async with uow() as work:
        assert await work.tasks.get(user.id, task.id) is None
        assert (await work.history.list(user.id, PageRequest())).total == 0


async def test_tasks_are_scoped_to_their_owner(uow: PostgresUnitOfWorkFactory) -> None:
    ada, bob = await add_user(uow), await add_user(uow, "bob@example.com")
    task = await add_task(uow, ada)
    async with uow() as work:
        assert await work.tasks.get(bob.id, task.id) is None
        assert await work.tasks.get_for_update(bob.id, task.id) is None
        assert (await work.tasks.list(bob.id, TaskQuery(), PageRequest())).total == 0
        assert await work.tasks.get(ada.id, task.id) == task


async def test_listing_order_status_and_counts(uow: PostgresUnitOfWorkFactory) -> None:
    user = await add_user(uow)
    made = []
    for n in range(4):
        task = Task.create(user.id, f"t{n}", None, NOW + timedelta(seconds=n))
        async with uow() as work:
            await work.tasks.add(task)
            await work.commit()
        made.append(task)
    completed = made[0].complete(NOW)
    assert completed is not None
    async with uow() as work:
        await work.tasks.update(completed)
        await work.commit()
    async with uow() as work:
        page = await work.tasks.list(user.id, TaskQuery(), PageRequest(0, 3))
        assert [t.title for t in page.items] == ["t3", "t2", "t1"]
        assert page.total == 4
        done = await work.tasks.list(user.id, TaskQuery(TaskStatus.COMPLETED), PageRequest())
        assert [t.title for t in done.items] == ["t0"]
        beyond = await work.tasks.list(user.id, TaskQuery(), PageRequest(10, 3))
        assert (beyond.items, beyond.total) == ([], 4)


async def test_row_lock_serializes_concurrent_changes(uow: PostgresUnitOfWorkFactory) -> None:
    user = await add_user(uow)
    task = await add_task(uow, user)

    async def toggle() -> None:
        async with uow() as work:
            current = await work.tasks.get_for_update(user.id, task.id)
            assert current is not None
            await asyncio.sleep(0.01)  # widen the race window
            await work.tasks.update(current.toggle(NOW))
            await work.commit()

    await asyncio.gather(*(toggle() for _ in range(8)))
    async with uow() as work:
        final = await work.tasks.get(user.id, task.id)
    assert final is not None
    assert final.version == 9


async def test_history_survives_task_deletion_and_filters(uow: PostgresUnitOfWorkFactory) -> None:
    user = await add_user(uow)
    task = await add_task(uow, user, "keep me")
    async with uow() as work:
        await work.tasks.delete(task)
        await work.history.append(HistoryEntry.record(task, ActionType.DELETED, NOW))
        await work.commit()
    async with uow() as work:
        everything = await work.history.list(user.id, PageRequest())
        deleted = await work.history.list(user.id, PageRequest(), action_type=ActionType.DELETED)
        by_task = await work.history.list(user.id, PageRequest(), task_id=task.id)
    assert [e.action_type for e in everything.items] == [ActionType.DELETED, ActionType.CREATED]
    assert deleted.total == 1
    assert by_task.total == 2
    assert everything.items[0].task_title == "keep me"


async def test_history_refuses_update_and_delete(
    uow: PostgresUnitOfWorkFactory, engine: AsyncEngine
) -> None:
    await add_task(uow, await add_user(uow))
    for statement in ("UPDATE task_history SET description = 'x'", "DELETE FROM task_history"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(sa.text(statement))


async def test_idempotency_claims(uow: PostgresUnitOfWorkFactory) -> None:
    user = await add_user(uow)

    async def claim(fingerprint: str, at: datetime = NOW) -> ClaimStatus:
        async with uow() as work:
            result = await work.idempotency_keys.claim(user.id, "k", fingerprint, at, 3600)
            await work.commit()
        return result.status

    assert await claim("f") is ClaimStatus.CLAIMED
    assert await claim("f") is ClaimStatus.IN_PROGRESS
    assert await claim("g") is ClaimStatus.MISMATCH
    task = Task.create(user.id, "t", None, NOW)
    async with uow() as work:
        await work.idempotency_keys.complete(user.id, "k", task)
        await work.commit()
    async with uow() as work:
        replay = await work.idempotency_keys.claim(user.id, "k", "f", NOW, 3600)
    assert replay.status is ClaimStatus.REPLAY
    assert replay.task == task
    assert await claim("f", NOW + timedelta(hours=2)) is ClaimStatus.CLAIMED  # expired


async def test_concurrent_claims_of_one_key_let_one_through(uow: PostgresUnitOfWorkFactory) -> None:
    user = await add_user(uow)

    async def claim() -> ClaimStatus:
        async with uow() as work:
            result = await work.idempotency_keys.claim(user.id, "race", "f", NOW, 3600)
            await work.commit()
        return result.status

    results = await asyncio.gather(*(claim() for _ in range(6)))
    assert results.count(ClaimStatus.CLAIMED) == 1
    assert results.count(ClaimStatus.IN_PROGRESS) == 5


async def test_refresh_token_is_spent_once_under_concurrency(
    uow: PostgresUnitOfWorkFactory,
) -> None:
    user = await add_user(uow)
    token = RefreshToken(uuid.uuid4(), user.id, uuid.uuid4(), "h", NOW, NOW + timedelta(days=1))
    async with uow() as work:
        await work.refresh_tokens.add(token)
        await work.commit()

    async def spend() -> bool:
        async with uow() as work:
            spent = await work.refresh_tokens.spend("h", NOW)
            await work.commit()
        return spent is not None

    assert sorted(await asyncio.gather(*(spend() for _ in range(6)))) == [False] * 5 + [True]


async def test_rate_limiter_counts_across_calls_and_resets(engine: AsyncEngine) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC))
    limiter = PostgresRateLimiter(engine, clock)
    assert [await limiter.hit("k", 2, 60) for _ in range(3)] == [None, None, 50]
    clock.advance(seconds=60)
    assert await limiter.hit("k", 2, 60) is None


async def test_counters_agree_with_the_rows(
    uow: PostgresUnitOfWorkFactory, engine: AsyncEngine
) -> None:
    user = await add_user(uow)
    made = [await add_task(uow, user, f"t{n}") for n in range(6)]
    for task in made[:4]:
        async with uow() as work:
            current = await work.tasks.get_for_update(user.id, task.id)
            assert current is not None
            changed = current.toggle(NOW)
            await work.tasks.update(changed)
            await work.history.append(HistoryEntry.record(changed, ActionType.COMPLETED, NOW))
            await work.commit()
    async with uow() as work:
        await work.tasks.delete(made[0])
        await work.history.append(HistoryEntry.record(made[0], ActionType.DELETED, NOW))
        await work.commit()
    async with engine.connect() as connection:
        counts = (
            await connection.execute(
                sa.text(
                    "SELECT total, created, completed, deleted"
                    " FROM history_counts WHERE user_id = :u"
                ),
                {"u": user.id},
            )
        ).one()
        rows = (
            await connection.execute(
                sa.text("SELECT count(*) FROM task_history WHERE user_id = :u"), {"u": user.id}
            )
        ).scalar_one()
        tasks = (
            await connection.execute(
                sa.text("SELECT sum(open), sum(completed) FROM task_counts WHERE user_id = :u"),
                {"u": user.id},
            )
        ).one()
    assert tuple(counts) == (rows, 6, 4, 1) == (11, 6, 4, 1)
    assert tuple(tasks) == (2, 3)
    async with uow() as work:
        week = await work.tasks.count_week(
            user.id, NOW - timedelta(days=1), NOW + timedelta(days=1)
        )
    assert (week.created, week.completed, week.total_completed, week.total_incomplete) == (
        5,
        3,
        3,
        2,
    )
