"""GET /api/v1/sync and X-Sync-Cursor: full sync, deltas, deletions as ids, pages, opaque
cursors, and a reader that syncs in small pages while writers change the same account."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from taskapp.config import Settings
from tests.api.conftest import serve_with
from tests.api.helpers import Client, assert_error, signed_in

SYNC = "/api/v1/sync"


async def new_task(client: Client, user: dict[str, str], title: str) -> dict[str, Any]:
    response = await client.post("/api/v1/tasks", json={"title": title}, headers=user)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def new_list(client: Client, user: dict[str, str], name: str) -> dict[str, Any]:
    response = await client.post("/api/v1/lists", json={"name": name}, headers=user)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def sync(
    client: Client, user: dict[str, str], cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if cursor is not None:
        params["cursor"] = cursor
    if limit is not None:
        params["limit"] = limit
    response = await client.get(SYNC, params=params, headers=user)
    assert response.status_code == 200, response.text
    assert "x-sync-cursor" not in response.headers  # a read, not a mutation
    data: dict[str, Any] = response.json()["data"]
    return data


class Replica:
    """What a client holds: it applies pages in order, nothing else."""

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.cursor: str | None = None
        self.pages = 0

    def apply(self, page: dict[str, Any]) -> None:
        for task in page["tasks"]:
            self.tasks[task["id"]] = task
        for found in page["lists"]:
            self.lists[found["id"]] = found
        for task_id in page["deleted_task_ids"]:
            self.tasks.pop(task_id, None)
        for list_id in page["deleted_list_ids"]:
            self.lists.pop(list_id, None)
        self.cursor = page["cursor"]
        self.pages += 1

    async def catch_up(self, client: Client, user: dict[str, str], limit: int) -> None:
        while True:
            page = await sync(client, user, self.cursor, limit)
            count = sum(
                len(page[k]) for k in ("tasks", "lists", "deleted_task_ids", "deleted_list_ids")
            )
            assert count <= limit
            self.apply(page)
            if not page["has_more"]:
                return


async def test_a_full_sync_then_deltas_with_deletions_as_ids(client: Client) -> None:
    user = await signed_in(client)
    first = await new_task(client, user, "first")
    second = await new_task(client, user, "second")
    work = await new_list(client, user, "Work")
    await client.delete(f"/api/v1/tasks/{second['id']}", headers=user)

    everything = await sync(client, user)
    assert [t["id"] for t in everything["tasks"]] == [first["id"]]
    assert everything["tasks"][0]["title"] == "first"
    assert everything["deleted_task_ids"] == [second["id"]]
    assert [x["id"] for x in everything["lists"]] == [work["id"]]
    assert set(everything["lists"][0]) == {
        "id",
        "name",
        "color",
        "position",
        "created_at",
        "updated_at",
        "version",
    }
    assert everything["deleted_list_ids"] == []
    assert everything["has_more"] is False

    # Nothing changed: an empty page with the same cursor.
    again = await sync(client, user, everything["cursor"])
    assert again["tasks"] == again["lists"] == again["deleted_task_ids"] == []
    assert again["deleted_list_ids"] == []
    assert again["cursor"] == everything["cursor"]

    # A delta holds only what changed since, each object as it is now.
    await client.patch(f"/api/v1/tasks/{first['id']}/complete", headers=user)
    await client.patch(f"/api/v1/lists/{work['id']}", json={"name": "Office"}, headers=user)
    delta = await sync(client, user, everything["cursor"])
    assert [(t["id"], t["is_completed"]) for t in delta["tasks"]] == [(first["id"], True)]
    assert [(x["id"], x["name"]) for x in delta["lists"]] == [(work["id"], "Office")]
    await client.delete(f"/api/v1/lists/{work['id']}", headers=user)
    gone = await sync(client, user, delta["cursor"])
    assert gone["deleted_list_ids"] == [work["id"]]
    assert gone["lists"] == []


async def test_small_pages_carry_everything_once_in_order(client: Client) -> None:
    user = await signed_in(client)
    made = [await new_task(client, user, f"task {i}") for i in range(7)]
    replica = Replica()
    await replica.catch_up(client, user, limit=2)
    assert replica.pages == 4
    assert list(replica.tasks) == [t["id"] for t in made]


async def test_each_user_syncs_only_their_own_and_cursors_are_bound_to_their_user(
    client: Client,
) -> None:
    alice, bob = await signed_in(client), await signed_in(client)
    await new_task(client, alice, "alice's")
    bobs = await sync(client, bob)
    assert bobs["tasks"] == []
    assert bobs["has_more"] is False
    alices = await sync(client, alice)
    response = await client.get(SYNC, params={"cursor": alices["cursor"]}, headers=bob)
    body = assert_error(response, 422, "VALIDATION_ERROR")
    assert [d["field"] for d in body["error"]["details"]] == ["cursor"]


async def test_a_malformed_cursor_or_limit_is_422(client: Client) -> None:
    user = await signed_in(client)
    for cursor in ("garbage", "AAAA", "x" * 64, uuid.uuid4().hex):
        response = await client.get(SYNC, params={"cursor": cursor}, headers=user)
        body = assert_error(response, 422, "VALIDATION_ERROR")
        assert [d["field"] for d in body["error"]["details"]] == ["cursor"], cursor
    for limit in (0, 1001, -1):
        response = await client.get(SYNC, params={"limit": limit}, headers=user)
        assert_error(response, 422, "VALIDATION_ERROR")
    response = await client.get(SYNC)
    assert_error(response, 401, "UNAUTHORIZED")


async def test_every_successful_mutation_answers_with_a_cursor_at_or_after_it(
    client: Client,
) -> None:
    user = await signed_in(client)
    start = (await sync(client, user))["cursor"]

    created = await client.post("/api/v1/tasks", json={"title": "one"}, headers=user)
    task_id = created.json()["data"]["id"]
    patched = await client.patch(f"/api/v1/tasks/{task_id}", json={"title": "two"}, headers=user)
    made = await client.post("/api/v1/lists", json={"name": "Home"}, headers=user)
    deleted = await client.delete(f"/api/v1/tasks/{task_id}", headers=user)
    cursors = []
    for response in (created, patched, made, deleted):
        assert 200 <= response.status_code < 300, response.text
        cursors.append(response.headers["x-sync-cursor"])
    assert len(set(cursors)) == 4

    # A sync from before a write brings it back; one from its cursor has nothing older.
    after_create = await sync(client, user, start)
    assert task_id in after_create["deleted_task_ids"]
    assert (await sync(client, user, cursors[-1]))["deleted_task_ids"] == []
    since_patch = await sync(client, user, cursors[1])
    assert [x["name"] for x in since_patch["lists"]] == ["Home"]
    assert since_patch["deleted_task_ids"] == [task_id]

    # Not on reads, failures, or answers to callers who are not signed in.
    read = await client.get(f"/api/v1/lists/{made.json()['data']['id']}", headers=user)
    missing = await client.delete(f"/api/v1/tasks/{uuid.uuid4()}", headers=user)
    invalid = await client.post("/api/v1/tasks", json={"title": ""}, headers=user)
    anonymous = await client.post("/api/v1/tasks", json={"title": "x"})
    assert read.status_code == 200
    assert missing.status_code == 404
    assert invalid.status_code == 422
    assert anonymous.status_code == 401
    for response in (read, missing, invalid, anonymous):
        assert "x-sync-cursor" not in response.headers


async def test_the_sync_cursor_header_is_exposed_to_browsers(settings: Settings) -> None:
    origin = "http://localhost:3000"
    async with serve_with(dataclasses.replace(settings, cors_origins=(origin,))) as client:
        user = await signed_in(client)
        response = await client.post(
            "/api/v1/tasks", json={"title": "from a browser"}, headers={**user, "Origin": origin}
        )
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == origin
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-sync-cursor" in exposed
    assert "x-sync-cursor" in response.headers


async def _server_state(engine: AsyncEngine, user: dict[str, str], client: Client) -> Any:
    me = (await client.get("/api/v1/auth/me", headers=user)).json()["data"]["id"]
    async with engine.connect() as connection:
        tasks = await connection.execute(
            sa.text("SELECT id, version FROM tasks WHERE user_id = :u"), {"u": uuid.UUID(me)}
        )
        lists = await connection.execute(
            sa.text("SELECT id, version FROM lists WHERE user_id = :u"), {"u": uuid.UUID(me)}
        )
        return (
            {str(row[0]): row[1] for row in tasks},
            {str(row[0]): row[1] for row in lists},
        )


async def test_a_reader_syncing_in_small_pages_while_others_write_ends_with_the_servers_state(
    client: Client, engine: AsyncEngine
) -> None:
    user = await signed_in(client)
    done = asyncio.Event()

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        lists: list[str] = []
        for step in range(30):
            roll = rng.random()
            if roll < 0.4 or not mine:
                mine.append((await new_task(client, user, f"w{seed} {step}"))["id"])
            elif roll < 0.6:
                target = rng.choice(mine)
                await client.patch(
                    f"/api/v1/tasks/{target}", json={"title": f"w{seed} {step}!"}, headers=user
                )
            elif roll < 0.7:
                await client.patch(f"/api/v1/tasks/{rng.choice(mine)}/toggle", headers=user)
            elif roll < 0.8:
                target = mine.pop(rng.randrange(len(mine)))
                await client.delete(f"/api/v1/tasks/{target}", headers=user)
            elif roll < 0.9 or not lists:
                lists.append((await new_list(client, user, f"l{seed} {step}"))["id"])
            else:
                target = lists.pop(rng.randrange(len(lists)))
                await client.delete(f"/api/v1/lists/{target}", headers=user)

    replica = Replica()

    async def reader() -> None:
        while not done.is_set():
            await replica.catch_up(client, user, limit=3)
            await asyncio.sleep(0)

    reading = asyncio.create_task(reader())
    try:
        await asyncio.gather(*(writer(seed) for seed in range(4)))
    finally:
        done.set()
        await reading
    await replica.catch_up(client, user, limit=3)

    tasks, lists = await _server_state(engine, user, client)
    assert {k: v["version"] for k, v in replica.tasks.items()} == tasks
    assert {k: v["version"] for k, v in replica.lists.items()} == lists
    assert replica.pages > 10  # the reader really did sync while the writers wrote
