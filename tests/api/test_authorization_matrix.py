"""Every route that takes an id: user B aimed at user A's resource gets exactly the answer
a missing id gets, and A's data is unchanged afterwards."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.helpers import Client, signed_in

TASK_ROUTES = [
    ("GET", "/api/v1/tasks/{id}", None),
    ("PUT", "/api/v1/tasks/{id}", {"title": "taken over"}),
    ("PATCH", "/api/v1/tasks/{id}", {"description": "taken over"}),
    ("PATCH", "/api/v1/tasks/{id}/complete", None),
    ("PATCH", "/api/v1/tasks/{id}/incomplete", None),
    ("PATCH", "/api/v1/tasks/{id}/toggle", None),
    ("DELETE", "/api/v1/tasks/{id}", None),
]


async def snapshot(client: Client, owner: dict[str, str], task_id: str) -> dict[str, Any]:
    task = await client.get(f"/api/v1/tasks/{task_id}", headers=owner)
    history = await client.get("/api/v1/history", params={"limit": 100}, headers=owner)
    return {"task": task.json()["data"], "history": history.json()["data"]}


def answer(response: Any) -> tuple[int, str | None, str | None]:
    body = response.json()
    error = body.get("error") or {}
    return response.status_code, error.get("code"), error.get("message")


@pytest.mark.parametrize(("method", "path", "body"), TASK_ROUTES)
async def test_someone_elses_task_is_indistinguishable_from_a_missing_one(
    client: Client, method: str, path: str, body: dict[str, Any] | None
) -> None:
    owner, intruder = await signed_in(client), await signed_in(client)
    task = (await client.post("/api/v1/tasks", json={"title": "mine"}, headers=owner)).json()
    task_id = task["data"]["id"]
    before = await snapshot(client, owner, task_id)

    foreign = await client.request(method, path.format(id=task_id), json=body, headers=intruder)
    missing = await client.request(
        method, path.format(id=uuid.uuid4()), json=body, headers=intruder
    )
    assert answer(foreign) == answer(missing) == (404, "TASK_NOT_FOUND", "Task not found")
    assert "etag" not in foreign.headers
    assert await snapshot(client, owner, task_id) == before


@pytest.mark.parametrize(
    "params",
    [
        lambda task_id, entry_id: {"task_id": task_id},
        lambda task_id, entry_id: {"as_of": entry_id},
    ],
    ids=["history?task_id", "history?as_of"],
)
async def test_someone_elses_ids_in_history_filters(client: Client, params: Any) -> None:
    owner, intruder = await signed_in(client), await signed_in(client)
    task = (await client.post("/api/v1/tasks", json={"title": "mine"}, headers=owner)).json()
    entries = (await client.get("/api/v1/history", headers=owner)).json()["data"]["items"]
    foreign = await client.get(
        "/api/v1/history", params=params(task["data"]["id"], entries[0]["id"]), headers=intruder
    )
    missing = await client.get(
        "/api/v1/history", params=params(str(uuid.uuid4()), str(uuid.uuid4())), headers=intruder
    )
    assert foreign.status_code == missing.status_code
    if foreign.status_code == 200:
        assert foreign.json()["data"] == missing.json()["data"]
    else:
        assert foreign.json()["error"]["code"] == missing.json()["error"]["code"]
