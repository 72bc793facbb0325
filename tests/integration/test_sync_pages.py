"""GET /sync's pages against the definition, from every position of a log: each object
changed after the cursor, once, at its latest change, in that order, cut at the limit.

The log is built in SQL with objects changed many times across page boundaries, tasks and
lists interleaved, objects deleted after changes, and another user's entries in between, so
a page's query must skip superseded entries without losing or repeating an object."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator

import pytest

from taskapp.adapters.postgres.database import Database, PoolSettings
from taskapp.adapters.postgres.sync import PostgresSyncReads
from taskapp.domain.model.sync import SyncCursor

LIMITS = (1, 2, 3, 7, 500)

_USER = (
    "INSERT INTO users (id, email, email_key, password_hash, created_at, updated_at) "
    "VALUES ($1, $2, $2, 'plain:x', now(), now())"
)
_TASK = (
    "INSERT INTO tasks (id, user_id, title, is_completed, created_at, updated_at, version) "
    "VALUES ($1, $2, 'task', false, now(), now(), 1)"
)
_ENTRY = (
    "INSERT INTO task_history "
    "(id, user_id, task_id, task_title, action_type, description, created_at) "
    "VALUES (gen_random_uuid(), $1, $2, 'task', $3, 'seeded', now())"
)
_LIST = (  # the lists trigger writes list_changes
    "INSERT INTO lists (id, user_id, name, name_key, position, created_at, updated_at, version) "
    "VALUES ($1, $2, $3, $3, $3, now(), now(), 1)"
)
_LOG = (
    "SELECT 'task', task_id, seq FROM task_history WHERE user_id = $1 "
    "UNION ALL SELECT 'list', list_id, seq FROM list_changes WHERE user_id = $1 ORDER BY 3"
)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, PoolSettings(pool_size=2))
    yield db
    await db.close()


async def _seed(database: Database, owner: uuid.UUID, other: uuid.UUID, rng: random.Random) -> None:
    for user_id in (owner, other):
        await database.execute(_USER, user_id, f"{user_id}@example.com")
    tasks = {owner: [uuid.uuid4() for _ in range(12)], other: [uuid.uuid4() for _ in range(4)]}
    lists = {owner: [uuid.uuid4() for _ in range(4)], other: [uuid.uuid4()]}
    for user_id in (owner, other):
        for task_id in tasks[user_id]:
            await database.execute(_TASK, task_id, user_id)
            await database.execute(_ENTRY, user_id, task_id, "CREATED")
        for number, list_id in enumerate(lists[user_id]):
            await database.execute(_LIST, list_id, user_id, f"a{number}")
    alive = {user_id: [*tasks[user_id]] for user_id in (owner, other)}
    alive_lists = {user_id: [*lists[user_id]] for user_id in (owner, other)}
    for _ in range(160):
        user_id = owner if rng.random() < 0.8 else other
        roll = rng.random()
        if roll < 0.6 and alive[user_id]:  # a task changed again (a few of them, mostly)
            task_id = rng.choice(alive[user_id][:4] if rng.random() < 0.6 else alive[user_id])
            await database.execute(_ENTRY, user_id, task_id, "UPDATED")
        elif roll < 0.85 and alive_lists[user_id]:
            list_id = rng.choice(alive_lists[user_id])
            await database.execute("UPDATE lists SET version = version + 1 WHERE id = $1", list_id)
        elif roll < 0.95 and len(alive[user_id]) > 2:  # deleted after its changes
            task_id = alive[user_id].pop(rng.randrange(len(alive[user_id])))
            await database.execute("DELETE FROM tasks WHERE id = $1", task_id)
            await database.execute(_ENTRY, user_id, task_id, "DELETED")
        elif len(alive_lists[user_id]) > 1:
            list_id = alive_lists[user_id].pop(rng.randrange(len(alive_lists[user_id])))
            await database.execute("DELETE FROM lists WHERE id = $1", list_id)


@pytest.mark.parametrize("seed", [1, 2])
async def test_every_page_from_every_position_is_each_objects_latest_change_in_order(
    database: Database, seed: int
) -> None:
    owner, other = uuid.uuid4(), uuid.uuid4()
    await _seed(database, owner, other, random.Random(seed))
    log = [(row[0], row[1], row[2]) for row in await database.fetch(_LOG, owner)]
    latest = {(kind, object_id): seq for kind, object_id, seq in log}  # ordered: last wins
    assert len(log) > 2 * len(latest)  # most entries are superseded
    reads = PostgresSyncReads(database)
    existing_tasks = {row[0] for row in await database.fetch("SELECT id FROM tasks")}
    existing_lists = {row[0] for row in await database.fetch("SELECT id FROM lists")}

    for after in [0, *(seq for _, _, seq in log)]:
        due = sorted((seq, kind, i) for (kind, i), seq in latest.items() if seq > after)
        for limit in LIMITS:
            page = await reads.changes(owner, after, limit)
            expected = due[:limit]
            tasks = [i for _, kind, i in expected if kind == "task" and i in existing_tasks]
            lists = [i for _, kind, i in expected if kind == "list" and i in existing_lists]
            gone_tasks = [i for _, k, i in expected if k == "task" and i not in existing_tasks]
            gone_lists = [i for _, k, i in expected if k == "list" and i not in existing_lists]
            assert [t.id for t in page.tasks] == tasks
            assert [x.id for x in page.lists] == lists
            assert page.deleted_task_ids == gone_tasks
            assert page.deleted_list_ids == gone_lists
            assert page.cursor == SyncCursor(owner, expected[-1][0] if expected else after)
            assert page.has_more is (len(due) > limit)
