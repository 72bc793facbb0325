"""/api/v1/tasks through the real app on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.helpers import Client, assert_error, signed_in

TASKS = "/api/v1/tasks"


async def create(client: Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Buy milk")
    response = await client.post(TASKS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


async def history_of(client: Client, headers: dict[str, str], task_id: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/history", params={"task_id": task_id, "limit": 100}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]["items"]
    return items


async def test_create_answers_201_with_location_etag_and_popup(
    client: Client, me: dict[str, str]
) -> None:
    response = await client.post(
        TASKS, json={"title": "  Write report  ", "description": "Q3"}, headers=me
    )
    assert response.status_code == 201
    body = response.json()
    assert body["popup"] == "TASK_CREATED"
    task = body["data"]
    assert set(task) == {
        "id",
        "list_id",
        "parent_id",
        "position",
        "title",
        "description",
        "is_completed",
        "completed_at",
        "due_date",
        "due_at",
        "priority",
        "labels",
        "created_at",
        "updated_at",
        "version",
    }
    assert (task["list_id"], task["parent_id"], task["priority"], task["labels"]) == (
        None,
        None,
        "none",
        [],
    )
    assert task["title"] == "Write report"
    assert task["description"] == "Q3"
    assert task["is_completed"] is False
    assert task["completed_at"] is None
    assert task["version"] == 1
    assert response.headers["location"] == f"/api/v1/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'


async def test_empty_description_is_stored_as_null(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me, description="")
    assert task["description"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": "ok", "description": "x" * 5001}, "description"),
        ({"title": "ok", "description": "nul\x00"}, "description"),
        ({"title": 5}, "title"),
        ({"title": None}, "title"),
        ({}, "title"),
        ({"title": "ok", "is_completed": True}, "is_completed"),
        ({"title": "ok", "id": str(uuid.uuid4())}, "id"),
        ({"title": "ok", "version": 7}, "version"),
        ({"title": "ok", "user_id": str(uuid.uuid4())}, "user_id"),
    ],
)
async def test_create_validation(
    client: Client, me: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await client.post(TASKS, json=body, headers=me)
    error = assert_error(response, 422, "VALIDATION_ERROR")["error"]
    assert error["details"][0]["field"] == field


async def test_title_and_description_bounds_are_inclusive(
    client: Client, me: dict[str, str]
) -> None:
    task = await create(client, me, title="t" * 255, description="d" * 5000)
    assert len(task["title"]) == 255
    assert len(task["description"]) == 5000


async def test_every_task_route_requires_a_token(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me)
    path = f"{TASKS}/{task['id']}"
    calls = [
        ("POST", TASKS),
        ("GET", TASKS),
        ("GET", path),
        ("PUT", path),
        ("PATCH", path),
        ("PATCH", f"{path}/complete"),
        ("PATCH", f"{path}/incomplete"),
        ("PATCH", f"{path}/toggle"),
        ("DELETE", path),
    ]
    for method, url in calls:
        response = await client.request(method, url, json={"title": "x"})
        assert_error(response, 401, "UNAUTHORIZED")


async def test_get_returns_the_task_with_its_etag(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me)
    response = await client.get(f"{TASKS}/{task['id']}", headers=me)
    assert response.status_code == 200
    assert response.json()["data"] == task
    assert response.json()["popup"] is None
    assert response.headers["etag"] == '"1"'


async def test_unknown_and_malformed_ids(client: Client, me: dict[str, str]) -> None:
    assert_error(await client.get(f"{TASKS}/{uuid.uuid4()}", headers=me), 404, "TASK_NOT_FOUND")
    assert_error(await client.get(f"{TASKS}/not-a-uuid", headers=me), 422, "VALIDATION_ERROR")


async def test_another_users_task_answers_exactly_like_a_missing_one(
    client: Client, me: dict[str, str]
) -> None:
    task = await create(client, me)
    other = await signed_in(client)
    missing = f"{TASKS}/{uuid.uuid4()}"
    theirs = f"{TASKS}/{task['id']}"
    for method, suffix, body in [
        ("GET", "", None),
        ("PUT", "", {"title": "hijack"}),
        ("PATCH", "", {"title": "hijack"}),
        ("PATCH", "/complete", None),
        ("PATCH", "/incomplete", None),
        ("PATCH", "/toggle", None),
        ("DELETE", "", None),
    ]:
        foreign = await client.request(method, theirs + suffix, json=body, headers=other)
        absent = await client.request(method, missing + suffix, json=body, headers=other)
        assert foreign.status_code == absent.status_code == 404
        assert foreign.json()["error"] == {
            **absent.json()["error"],
            "request_id": foreign.json()["error"]["request_id"],
        }
    unchanged = (await client.get(theirs, headers=me)).json()["data"]
    assert unchanged == task
    listing = (await client.get(TASKS, headers=other)).json()["data"]
    assert listing["total"] == 0


async def test_update_changes_fields_bumps_version_and_records_the_diff(
    client: Client, me: dict[str, str]
) -> None:
    task = await create(client, me, description="old")
    response = await client.patch(f"{TASKS}/{task['id']}", json={"title": "New title"}, headers=me)
    assert response.status_code == 200
    assert response.json()["popup"] == "TASK_UPDATED"
    updated = response.json()["data"]
    assert updated["title"] == "New title"
    assert updated["description"] == "old"
    assert updated["version"] == 2
    assert response.headers["etag"] == '"2"'

    response = await client.put(f"{TASKS}/{task['id']}", json={"description": None}, headers=me)
    assert response.json()["data"]["description"] is None
    assert response.json()["data"]["version"] == 3

    entries = await history_of(client, me, task["id"])
    assert [e["action_type"] for e in entries] == ["UPDATED", "UPDATED", "CREATED"]
    assert entries[0]["changes"] == {"description": {"from": "old", "to": None}}
    assert entries[1]["changes"] == {"title": {"from": "Buy milk", "to": "New title"}}
    assert entries[1]["task_title"] == "New title"
    assert entries[2]["changes"] is None


async def test_update_with_nothing_new_changes_nothing(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me)
    response = await client.patch(f"{TASKS}/{task['id']}", json={"title": " Buy milk "}, headers=me)
    assert response.status_code == 200
    assert response.json()["data"]["version"] == 1
    assert len(await history_of(client, me, task["id"])) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"title": None}, 422),
        ({"title": ""}, 422),
        ({"completed": True}, 422),
        ({"description": 3}, 422),
    ],
)
async def test_update_validation(
    client: Client, me: dict[str, str], body: dict[str, Any], status: int
) -> None:
    task = await create(client, me)
    for method in ("PUT", "PATCH"):
        response = await client.request(method, f"{TASKS}/{task['id']}", json=body, headers=me)
        assert_error(response, status, "VALIDATION_ERROR")
    assert (await client.get(f"{TASKS}/{task['id']}", headers=me)).json()["data"]["version"] == 1


async def test_complete_and_reopen_are_idempotent(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me)
    path = f"{TASKS}/{task['id']}"
    first = await client.patch(f"{path}/complete", headers=me)
    assert first.status_code == 200
    assert first.json()["popup"] == "TASK_COMPLETED"
    completed = first.json()["data"]
    assert completed["is_completed"] is True
    assert completed["completed_at"] is not None
    assert completed["version"] == 2

    again = await client.patch(f"{path}/complete", headers=me)
    assert again.status_code == 200
    assert again.json()["data"] == completed

    reopened = (await client.patch(f"{path}/incomplete", headers=me)).json()
    assert reopened["popup"] == "TASK_REOPENED"
    assert reopened["data"]["is_completed"] is False
    assert reopened["data"]["completed_at"] is None
    assert reopened["data"]["version"] == 3
    assert (await client.patch(f"{path}/incomplete", headers=me)).json()["data"]["version"] == 3

    actions = [e["action_type"] for e in await history_of(client, me, task["id"])]
    assert actions == ["REOPENED", "COMPLETED", "CREATED"]


async def test_toggle_flips_and_names_the_result(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me)
    path = f"{TASKS}/{task['id']}/toggle"
    first = (await client.patch(path, headers=me)).json()
    second = (await client.patch(path, headers=me)).json()
    assert (first["popup"], first["data"]["is_completed"]) == ("TASK_COMPLETED", True)
    assert (second["popup"], second["data"]["is_completed"]) == ("TASK_REOPENED", False)
    assert second["data"]["version"] == 3


async def test_if_match_guards_every_change(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me)
    path = f"{TASKS}/{task['id']}"
    stale = {**me, "If-Match": '"7"'}
    for method, suffix, body in [
        ("PUT", "", {"title": "x"}),
        ("PATCH", "", {"title": "x"}),
        ("PATCH", "/complete", None),
        ("PATCH", "/incomplete", None),
        ("PATCH", "/toggle", None),
        ("DELETE", "", None),
    ]:
        response = await client.request(method, path + suffix, json=body, headers=stale)
        assert_error(response, 412, "VERSION_CONFLICT")
    garbage = await client.patch(f"{path}/toggle", headers={**me, "If-Match": "nonsense"})
    assert_error(garbage, 412, "VERSION_CONFLICT")
    current = (await client.get(path, headers=me)).json()["data"]
    assert current == task
    assert len(await history_of(client, me, task["id"])) == 1

    fresh = await client.patch(f"{path}/toggle", headers={**me, "If-Match": '"1"'})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"2"'
    # If-Match compares strongly (RFC 9110): a weak tag names no version.
    weak = await client.patch(f"{path}/toggle", headers={**me, "If-Match": 'W/"2"'})
    assert_error(weak, 412, "VERSION_CONFLICT")


async def test_delete_answers_the_id_and_keeps_history(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me)
    response = await client.delete(f"{TASKS}/{task['id']}", headers=me)
    assert response.status_code == 200
    assert response.json()["popup"] == "TASK_DELETED"
    assert response.json()["data"] == {"id": task["id"]}
    assert_error(await client.get(f"{TASKS}/{task['id']}", headers=me), 404, "TASK_NOT_FOUND")
    assert_error(await client.delete(f"{TASKS}/{task['id']}", headers=me), 404, "TASK_NOT_FOUND")
    entries = await history_of(client, me, task["id"])
    assert [e["action_type"] for e in entries] == ["DELETED", "CREATED"]
    assert entries[0]["task_title"] == "Buy milk"


async def test_list_order_filters_and_pagination(client: Client, me: dict[str, str]) -> None:
    made = [await create(client, me, title=f"task {n}") for n in range(5)]
    await client.patch(f"{TASKS}/{made[1]['id']}/complete", headers=me)
    await client.patch(f"{TASKS}/{made[3]['id']}/complete", headers=me)

    listing = (await client.get(TASKS, headers=me)).json()["data"]
    titles = [t["title"] for t in listing["items"]]
    assert titles == ["task 4", "task 2", "task 0", "task 3", "task 1"]
    assert (listing["page"], listing["limit"], listing["total"], listing["total_pages"]) == (
        1,
        20,
        5,
        1,
    )

    open_only = (await client.get(TASKS, params={"status": "open"}, headers=me)).json()["data"]
    assert [t["title"] for t in open_only["items"]] == ["task 4", "task 2", "task 0"]
    done = (await client.get(TASKS, params={"status": "completed"}, headers=me)).json()["data"]
    assert [t["title"] for t in done["items"]] == ["task 3", "task 1"]

    page2 = (await client.get(TASKS, params={"page": 2, "limit": 2}, headers=me)).json()["data"]
    assert [t["title"] for t in page2["items"]] == ["task 0", "task 3"]
    assert (page2["page"], page2["total"], page2["total_pages"]) == (2, 5, 3)

    by_offset = (
        await client.get(TASKS, params={"offset": 3, "limit": 2, "page": 1}, headers=me)
    ).json()["data"]
    assert [t["title"] for t in by_offset["items"]] == ["task 3", "task 1"]

    beyond = (await client.get(TASKS, params={"page": 9, "limit": 2}, headers=me)).json()["data"]
    assert beyond["items"] == []
    assert beyond["total"] == 5


async def test_search_is_literal_and_case_insensitive(client: Client, me: dict[str, str]) -> None:
    await create(client, me, title="100% done")
    await create(client, me, title="1000 done")
    await create(client, me, title="snake_case")
    await create(client, me, title="snakeXcase")
    await create(client, me, title="other", description="Mentions PERCENT% here")

    async def search(q: str) -> list[str]:
        data = (await client.get(TASKS, params={"q": q}, headers=me)).json()["data"]
        return sorted(t["title"] for t in data["items"])

    assert await search("0%") == ["100% done"]
    assert await search("e_c") == ["snake_case"]
    assert await search("percent%") == ["other"]
    assert await search("DONE") == ["100% done", "1000 done"]
    assert await search("\\") == []


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"page": "x"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"status": "closed"},
        {"sort": "name"},
        {"sort": "--due"},
        {"q": "x" * 256},
        {"q": "nul\x00"},
    ],
)
async def test_list_rejects_bad_query_parameters(
    client: Client, me: dict[str, str], params: dict[str, Any]
) -> None:
    response = await client.get(TASKS, params=params, headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_idempotent_create_replays_the_first_answer(
    client: Client, me: dict[str, str]
) -> None:
    headers = {**me, "Idempotency-Key": "create-1"}
    first = await client.post(TASKS, json={"title": "Once"}, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    await client.patch(f"{TASKS}/{first.json()['data']['id']}/complete", headers=me)

    retry = await client.post(TASKS, json={"title": "Once"}, headers=headers)
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["data"] == first.json()["data"]  # the original answer, not today's task
    assert (await client.get(TASKS, headers=me)).json()["data"]["total"] == 1

    different = await client.post(TASKS, json={"title": "Twice"}, headers=headers)
    assert_error(different, 422, "IDEMPOTENCY_KEY_REUSED")

    other_user = await signed_in(client)
    theirs = await client.post(
        TASKS, json={"title": "Once"}, headers={**other_user, "Idempotency-Key": "create-1"}
    )
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
async def test_bad_idempotency_keys_are_422(client: Client, me: dict[str, str], key: str) -> None:
    response = await client.post(TASKS, json={"title": "x"}, headers={**me, "Idempotency-Key": key})
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_parallel_creates_with_one_key_make_one_task(
    client: Client, me: dict[str, str]
) -> None:
    headers = {**me, "Idempotency-Key": "parallel"}
    responses = await asyncio.gather(
        *(client.post(TASKS, json={"title": "Parallel"}, headers=headers) for _ in range(8))
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
    created_ids = {r.json()["data"]["id"] for r in responses if r.status_code == 201}
    assert len(created_ids) == 1
    assert (await client.get(TASKS, headers=me)).json()["data"]["total"] == 1


async def test_parallel_toggles_serialize(client: Client, me: dict[str, str]) -> None:
    task = await create(client, me)
    n = 12
    responses = await asyncio.gather(
        *(client.patch(f"{TASKS}/{task['id']}/toggle", headers=me) for _ in range(n))
    )
    assert all(r.status_code == 200 for r in responses)
    final = (await client.get(f"{TASKS}/{task['id']}", headers=me)).json()["data"]
    assert final["version"] == 1 + n
    assert final["is_completed"] is (n % 2 == 1)
    entries = await history_of(client, me, task["id"])
    assert len(entries) == n + 1
    assert sorted(r.json()["data"]["version"] for r in responses) == list(range(2, n + 2))


async def test_history_rows_are_append_only_in_the_database(
    client: Client, me: dict[str, str], engine: AsyncEngine
) -> None:
    await create(client, me)
    for statement in ("UPDATE task_history SET task_title = 'forged'", "DELETE FROM task_history"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(sa.text(statement))


async def test_database_enforces_completed_iff_completed_at(
    client: Client, me: dict[str, str], engine: AsyncEngine
) -> None:
    await create(client, me)
    with pytest.raises(sa.exc.IntegrityError, match="completed_iff_completed_at"):
        async with engine.begin() as connection:
            await connection.execute(sa.text("UPDATE tasks SET is_completed = true"))
