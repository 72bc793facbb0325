"""What every implementation of the ports must do (run on memory and on PostgreSQL)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from taskapp.adapters.memory.adapters import MemoryAdapters
from taskapp.adapters.postgres.adapters import PostgresAdapters
from taskapp.domain.errors import EmailAlreadyRegistered, StaleWrite
from taskapp.domain.model import (
    ActionType,
    ClaimStatus,
    DownloadEvent,
    DueWindow,
    ExportFormat,
    HistoryEntry,
    HistoryQuery,
    PageRequest,
    RefreshToken,
    Review,
    Task,
    TaskQuery,
    TaskStatus,
    User,
)

Adapters = MemoryAdapters | PostgresAdapters
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NO_WINDOW = DueWindow()


async def add_user(adapters: Adapters, email: str = "ada@example.com") -> User:
    user = User(uuid.uuid4(), email, None, "hash-1", NOW, NOW)
    async with adapters.accounts_unit() as unit:
        await unit.users.add(user)
        await unit.commit()
    return user


async def add_task(
    adapters: Adapters,
    user: User,
    title: str = "t",
    at: datetime = NOW,
    description: str | None = None,
) -> Task:
    task = Task.create(user.id, title, description, at)
    async with adapters.tasks_unit() as unit:
        await unit.tasks.add(task)
        await unit.history.append(HistoryEntry.record(task, ActionType.CREATED, at))
        await unit.commit()
    return task


async def change(adapters: Adapters, before: Task, after: Task, action: ActionType) -> None:
    async with adapters.tasks_unit() as unit:
        await unit.tasks.update(after, expected_version=before.version)
        await unit.history.append(HistoryEntry.record(after, action, NOW))
        await unit.commit()


async def delete(adapters: Adapters, task: Task) -> None:
    async with adapters.tasks_unit() as unit:
        await unit.tasks.delete(task, expected_version=task.version)
        await unit.history.append(HistoryEntry.record(task, ActionType.DELETED, NOW))
        await unit.commit()


async def add_token(adapters: Adapters, token: RefreshToken, password_hash: str) -> None:
    async with adapters.accounts_unit() as unit:
        await unit.refresh_tokens.add(token, password_hash=password_hash)
        await unit.commit()


async def test_accounts_are_unique_by_their_email_key(adapters: Adapters) -> None:
    user = await add_user(adapters, "Straße@Example.com")
    for other in ("strasse@example.com", "STRASSE@EXAMPLE.COM", "straße@example.com"):
        with pytest.raises(EmailAlreadyRegistered):
            await add_user(adapters, other)
    assert await adapters.account_reads.user_by_email(" STRASSE@example.com ") == user
    assert await adapters.account_reads.user(user.id) == user
    assert user.email == "Straße@Example.com"  # shown as written


async def test_nothing_lands_without_commit(adapters: Adapters) -> None:
    user = await add_user(adapters)
    task = Task.create(user.id, "never", None, NOW)
    async with adapters.tasks_unit() as unit:
        await unit.tasks.add(task)
        await unit.history.append(HistoryEntry.record(task, ActionType.CREATED, NOW))
    assert await adapters.task_reads.get(user.id, task.id) is None
    history = await adapters.history_reads.list(user.id, HistoryQuery(), PageRequest())
    assert history is not None
    assert history.total == 0


async def test_a_stale_version_writes_nothing(adapters: Adapters) -> None:
    user = await add_user(adapters)
    task = await add_task(adapters, user)
    toggled = task.toggle(NOW)
    await change(adapters, task, toggled, ActionType.COMPLETED)
    with pytest.raises(StaleWrite):  # decided on version 1, but the task is at 2 now
        await change(adapters, task, task.toggle(NOW), ActionType.COMPLETED)
    with pytest.raises(StaleWrite):
        await delete(adapters, task)
    assert await adapters.task_reads.get(user.id, task.id) == toggled
    history = await adapters.history_reads.list(user.id, HistoryQuery(), PageRequest())
    assert history is not None
    assert [e.action_type for e in history.items] == [ActionType.COMPLETED, ActionType.CREATED]


async def test_tasks_are_scoped_to_their_owner(adapters: Adapters) -> None:
    ada, bob = await add_user(adapters), await add_user(adapters, "bob@example.com")
    task = await add_task(adapters, ada)
    assert await adapters.task_reads.get(bob.id, task.id) is None
    assert (
        await adapters.task_reads.list(bob.id, TaskQuery(), NO_WINDOW, PageRequest())
    ).total == 0
    assert await adapters.task_reads.get(ada.id, task.id) == task
    with pytest.raises(StaleWrite):  # another user's task is not there to change
        await change(
            adapters, task, replace(task.toggle(NOW), user_id=bob.id), ActionType.COMPLETED
        )


async def test_listing_order_status_totals_and_search(adapters: Adapters) -> None:
    user = await add_user(adapters)
    made = [
        await add_task(adapters, user, f"t{n}", NOW + timedelta(seconds=n), f"Note {n}%_")
        for n in range(4)
    ]
    completed = made[0].complete(NOW)
    assert completed is not None
    await change(adapters, made[0], completed, ActionType.COMPLETED)
    reads = adapters.task_reads
    page = await reads.list(user.id, TaskQuery(), NO_WINDOW, PageRequest(0, 3))
    assert [t.title for t in page.items] == ["t3", "t2", "t1"]
    assert page.total == 4
    done = await reads.list(user.id, TaskQuery(TaskStatus.COMPLETED), NO_WINDOW, PageRequest())
    assert [t.title for t in done.items] == ["t0"]
    beyond = await reads.list(user.id, TaskQuery(), NO_WINDOW, PageRequest(10, 3))
    assert (beyond.items, beyond.total) == ([], 4)
    found = await reads.list(user.id, TaskQuery(search="NOTE 2%_"), NO_WINDOW, PageRequest())
    assert [t.title for t in found.items] == ["t2"]
    assert (await reads.list(user.id, TaskQuery(search="2%x"), NO_WINDOW, PageRequest())).total == 0
    assert (await reads.list(user.id, TaskQuery(search="_"), NO_WINDOW, PageRequest())).total == 4


async def test_batches_walk_every_task_once_newest_first(adapters: Adapters) -> None:
    user = await add_user(adapters)
    made = [
        await add_task(adapters, user, f"t{n}", NOW + timedelta(seconds=n % 3)) for n in range(7)
    ]
    seen: list[Task] = []
    last = None
    while batch := await adapters.task_reads.batch_after(user.id, TaskQuery(), last, 3):
        seen.extend(batch)
        last = batch[-1]
    assert sorted(t.id for t in seen) == sorted(t.id for t in made)
    keys = [(t.created_at, t.id.int) for t in seen]
    assert keys == sorted(keys, reverse=True)


async def test_history_filters_anchor_and_survives_deletion(adapters: Adapters) -> None:
    user = await add_user(adapters)
    task = await add_task(adapters, user, "keep me")
    other = await add_task(adapters, user, "other")
    await delete(adapters, task)
    reads = adapters.history_reads
    everything = await reads.list(user.id, HistoryQuery(), PageRequest())
    assert everything is not None
    assert [e.action_type for e in everything.items] == [
        ActionType.DELETED,
        ActionType.CREATED,
        ActionType.CREATED,
    ]
    assert everything.items[0].task_title == "keep me"
    deleted = await reads.list(user.id, HistoryQuery(action_type=ActionType.DELETED), PageRequest())
    by_task = await reads.list(user.id, HistoryQuery(task_id=task.id), PageRequest())
    assert deleted is not None
    assert by_task is not None
    assert (deleted.total, by_task.total) == (1, 2)
    anchor = everything.items[1].id  # "other" created
    await add_task(adapters, user, "newer")
    anchored = await reads.list(user.id, HistoryQuery(as_of=anchor), PageRequest(0, 1))
    assert anchored is not None
    assert ([e.task_id for e in anchored.items], anchored.total) == ([other.id], 2)
    created = await reads.list(
        user.id, HistoryQuery(action_type=ActionType.CREATED, as_of=anchor), PageRequest()
    )
    assert created is not None
    assert created.total == 2
    assert await reads.list(user.id, HistoryQuery(as_of=uuid.uuid4()), PageRequest()) is None


async def test_idempotency_claims_release_and_replay(adapters: Adapters) -> None:
    user = await add_user(adapters)
    keys = adapters.idempotency_keys

    async def claim(fingerprint: str, at: datetime = NOW) -> ClaimStatus:
        return (await keys.claim(user.id, "k", fingerprint, at, 3600)).status

    assert await claim("f") is ClaimStatus.CLAIMED
    assert await claim("f") is ClaimStatus.IN_PROGRESS
    assert await claim("g") is ClaimStatus.MISMATCH
    await keys.release(user.id, "k")  # the request failed: the key is free again
    assert await claim("f") is ClaimStatus.CLAIMED
    task = Task.create(user.id, "t", "d", NOW)
    async with adapters.tasks_unit() as unit:
        await unit.tasks.add(task)
        await unit.idempotency_keys.complete(user.id, "k", task)
        await unit.commit()
    await keys.release(user.id, "k")  # a finished key is kept
    replay = await keys.claim(user.id, "k", "f", NOW, 3600)
    assert (replay.status, replay.task) == (ClaimStatus.REPLAY, task)
    assert await claim("f", NOW + timedelta(hours=2)) is ClaimStatus.CLAIMED  # expired


async def test_an_abandoned_claim_is_taken_over_after_a_minute(adapters: Adapters) -> None:
    user = await add_user(adapters)
    keys = adapters.idempotency_keys
    assert (await keys.claim(user.id, "k", "f", NOW, 3600)).status is ClaimStatus.CLAIMED
    later = NOW + timedelta(seconds=59)
    assert (await keys.claim(user.id, "k", "f", later, 3600)).status is ClaimStatus.IN_PROGRESS
    later = NOW + timedelta(seconds=61)
    assert (await keys.claim(user.id, "k", "f", later, 3600)).status is ClaimStatus.CLAIMED


async def test_refresh_tokens_spend_once_and_revoke(adapters: Adapters) -> None:
    user = await add_user(adapters)
    token = RefreshToken(uuid.uuid4(), user.id, uuid.uuid4(), "h", NOW, NOW + timedelta(days=1))
    async with adapters.accounts_unit() as unit:
        await unit.refresh_tokens.add(token)
        await unit.commit()
    async with adapters.accounts_unit() as unit:
        spent = await unit.refresh_tokens.spend("h", NOW)
        assert await unit.refresh_tokens.spend("h", NOW) is None
        await unit.commit()
    assert spent == replace(token, used_at=NOW)
    async with adapters.accounts_unit() as unit:
        await unit.refresh_tokens.revoke_all_for_user(user.id, NOW)
        await unit.commit()
    async with adapters.accounts_unit() as unit:
        found = await unit.refresh_tokens.find("h")
    assert found is not None
    assert found.revoked_at == NOW


async def test_a_token_is_stored_only_while_the_password_is_unchanged(adapters: Adapters) -> None:
    user = await add_user(adapters)
    async with adapters.accounts_unit() as unit:
        await unit.users.set_password_hash(user.id, "hash-2", NOW)
        await unit.commit()
    token = RefreshToken(uuid.uuid4(), user.id, uuid.uuid4(), "h", NOW, NOW + timedelta(days=1))
    with pytest.raises(StaleWrite):
        await add_token(adapters, token, "hash-1")
    async with adapters.accounts_unit() as unit:
        assert await unit.refresh_tokens.find("h") is None
        await unit.refresh_tokens.add(token, password_hash="hash-2")
        await unit.commit()
    async with adapters.accounts_unit() as unit:
        assert await unit.refresh_tokens.find("h") == token


async def test_week_counts(adapters: Adapters) -> None:
    user = await add_user(adapters)
    made = [await add_task(adapters, user, f"t{n}") for n in range(5)]
    await add_task(adapters, user, "old", NOW - timedelta(days=30))
    for task in made[:3]:
        completed = task.complete(NOW)
        assert completed is not None
        await change(adapters, task, completed, ActionType.COMPLETED)
    week = await adapters.stats_reads.count_week(
        user.id, NOW - timedelta(days=1), NOW + timedelta(days=1)
    )
    assert (week.created, week.completed, week.total_completed, week.total_incomplete) == (
        5,
        3,
        3,
        3,
    )


async def test_downloads_newest_first(adapters: Adapters) -> None:
    user = await add_user(adapters)
    for n in range(3):
        await adapters.downloads.record(
            DownloadEvent(uuid.uuid4(), user.id, ExportFormat.CSV, n, NOW + timedelta(seconds=n))
        )
    page = await adapters.downloads.list(user.id, PageRequest(0, 2))
    assert ([e.item_count for e in page.items], page.total) == ([2, 1], 3)
    assert (await adapters.downloads.list(user.id, PageRequest(5, 2))).total == 3


async def test_reviews_upsert_and_summary(adapters: Adapters) -> None:
    ada, bob = await add_user(adapters), await add_user(adapters, "bob@example.com")
    first, created = await adapters.reviews.upsert(Review(uuid.uuid4(), ada.id, 4, None, NOW, NOW))
    assert created
    later = NOW + timedelta(minutes=1)
    again, created = await adapters.reviews.upsert(
        Review(uuid.uuid4(), ada.id, 5, "x", later, later)
    )
    assert not created
    assert (again.id, again.rating, again.comment, again.created_at) == (first.id, 5, "x", NOW)
    await adapters.reviews.upsert(Review(uuid.uuid4(), bob.id, 2, None, NOW, NOW))
    summary = await adapters.reviews.summary()
    assert (summary.count, summary.rating_sum) == (2, 7)
    assert summary.distribution == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert await adapters.reviews.get(ada.id) == again
