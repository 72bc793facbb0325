"""Helpers for the API tests of "Organising tasks": tasks, lists, labels, history."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import Client

TASKS = "/api/v1/tasks"
LISTS = "/api/v1/lists"
LABELS = "/api/v1/labels"
HISTORY = "/api/v1/history"

Headers = dict[str, str]


def data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True, body
    return body["data"]


async def create_task(client: Client, headers: Headers, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Task")
    task: dict[str, Any] = data(await client.post(TASKS, json=body, headers=headers), 201)
    return task


async def get_task(client: Client, headers: Headers, task_id: str) -> dict[str, Any]:
    task: dict[str, Any] = data(await client.get(f"{TASKS}/{task_id}", headers=headers))
    return task


async def patch_task(client: Client, headers: Headers, task_id: str, **body: Any) -> dict[str, Any]:
    task: dict[str, Any] = data(
        await client.patch(f"{TASKS}/{task_id}", json=body, headers=headers)
    )
    return task


async def move_task(client: Client, headers: Headers, task_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{TASKS}/{task_id}/move", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["popup"] == "TASK_MOVED"
    task: dict[str, Any] = response.json()["data"]
    return task


async def create_list(client: Client, headers: Headers, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "List")
    created: dict[str, Any] = data(await client.post(LISTS, json=body, headers=headers), 201)
    return created


async def get_list(client: Client, headers: Headers, list_id: str) -> dict[str, Any]:
    found: dict[str, Any] = data(await client.get(f"{LISTS}/{list_id}", headers=headers))
    return found


async def list_tasks(client: Client, headers: Headers, **params: Any) -> dict[str, Any]:
    params.setdefault("limit", 100)
    page: dict[str, Any] = data(await client.get(TASKS, params=params, headers=headers))
    return page


async def titles(client: Client, headers: Headers, **params: Any) -> list[str]:
    page = await list_tasks(client, headers, **params)
    return [task["title"] for task in page["items"]]


async def history(client: Client, headers: Headers, **params: Any) -> list[dict[str, Any]]:
    params.setdefault("limit", 100)
    items: list[dict[str, Any]] = data(await client.get(HISTORY, params=params, headers=headers))[
        "items"
    ]
    return items


async def history_of(client: Client, headers: Headers, task_id: str) -> list[dict[str, Any]]:
    """One task's entries, newest first."""
    return await history(client, headers, task_id=task_id)


def field_names(response: Any) -> set[str]:
    return {detail.get("field") for detail in response.json()["error"].get("details") or []}
