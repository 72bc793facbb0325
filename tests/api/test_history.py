"""GET /history: pagination, totals, filters, anchoring, isolation, bad parameters."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.api.helpers import Client, assert_error, signed_in

HISTORY = "/api/v1/history"


async def history(client: Client, me: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(HISTORY, params=params, headers=me)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def new_task(client: Client, me: dict[str, str], title: str = "t") -> str:
    response = await client.post("/api/v1/tasks", json={"title": title}, headers=me)
    assert response.status_code == 201
    task_id: str = response.json()["data"]["id"]
    return task_id


async def test_entries_carry_the_contract_fields(client: Client, me: dict[str, str]) -> None:
    task = await new_task(client, me, "first")
    await client.patch(f"/api/v1/tasks/{task}", json={"title": "second"}, headers=me)
    data = await history(client, me)
    assert data["total"] == 2
    updated, created = data["items"]
    assert set(updated) == {
        "id",
        "task_id",
        "task_title",
        "action_type",
        "description",
        "changes",
        "timestamp",
    }
    assert updated["action_type"] == "UPDATED"
    assert updated["changes"] == {"title": {"from": "first", "to": "second"}}
    assert updated["task_title"] == "second"
    assert created["task_title"] == "first"
    assert created["changes"] is None
    assert created["timestamp"].endswith("Z")


async def test_exact_page_sizes_and_totals(client: Client, me: dict[str, str]) -> None:
    for n in range(7):
        await new_task(client, me, f"t{n}")
    pages = [await history(client, me, page=p, limit=3) for p in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert {p["total"] for p in pages} == {7}
    assert {p["total_pages"] for p in pages} == {3}
    titles = [e["task_title"] for p in pages for e in p["items"]]
    assert titles == [f"t{n}" for n in reversed(range(7))]
    assert [e["task_title"] for e in (await history(client, me, offset=5, limit=3))["items"]] == [
        "t1",
        "t0",
    ]


async def test_filters(client: Client, me: dict[str, str]) -> None:
    a = await new_task(client, me, "a")
    b = await new_task(client, me, "b")
    await client.patch(f"/api/v1/tasks/{a}/complete", headers=me)
    await client.delete(f"/api/v1/tasks/{b}", headers=me)
    by_task = await history(client, me, task_id=a)
    assert [e["action_type"] for e in by_task["items"]] == ["COMPLETED", "CREATED"]
    assert by_task["total"] == 2
    deleted = await history(client, me, action_type="DELETED")
    assert [(e["task_id"], e["task_title"]) for e in deleted["items"]] == [(b, "b")]
    assert deleted["total"] == 1
    both = await history(client, me, task_id=a, action_type="CREATED")
    assert both["total"] == 1
    assert (await history(client, me, action_type="REOPENED"))["total"] == 0
    assert (await history(client, me, task_id=str(uuid.uuid4())))["total"] == 0


async def test_only_the_callers_entries(client: Client, me: dict[str, str]) -> None:
    task = await new_task(client, me)
    other = await signed_in(client)
    assert (await history(client, other))["total"] == 0
    assert (await history(client, other, task_id=task))["items"] == []


async def test_anchored_pages_neither_overlap_nor_gap_while_entries_arrive(
    client: Client, me: dict[str, str]
) -> None:
    for n in range(25):
        await new_task(client, me, f"before {n}")
    first = await history(client, me, limit=10)
    anchor = first["items"][0]["id"]
    seen = [e["id"] for e in first["items"]]

    async def writer() -> None:
        for n in range(15):
            await new_task(client, me, f"during {n}")

    async def reader() -> None:
        for page in (2, 3):
            data = await history(client, me, limit=10, page=page, as_of=anchor)
            assert data["total"] == 25
            seen.extend(e["id"] for e in data["items"])
            await asyncio.sleep(0)

    await asyncio.gather(writer(), reader())
    assert len(seen) == len(set(seen)) == 25
    assert (await history(client, me))["total"] == 40


async def test_totals_follow_every_write_exactly(client: Client, me: dict[str, str]) -> None:
    tasks = [await new_task(client, me) for _ in range(3)]
    await asyncio.gather(
        *(client.patch(f"/api/v1/tasks/{t}/toggle", headers=me) for t in tasks * 3)
    )
    data = await history(client, me, limit=100)
    assert data["total"] == len(data["items"]) == 12
    completed = await history(client, me, action_type="COMPLETED", limit=100)
    assert completed["total"] == len(completed["items"]) == 6


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"page": "one"},
        {"task_id": "not-a-uuid"},
        {"action_type": "ARCHIVED"},
        {"action_type": "created"},
        {"as_of": "nope"},
        {"order": "asc"},
    ],
)
async def test_bad_parameters_are_422(
    client: Client, me: dict[str, str], params: dict[str, Any]
) -> None:
    assert_error(await client.get(HISTORY, params=params, headers=me), 422, "VALIDATION_ERROR")


async def test_history_needs_a_token(client: Client) -> None:
    assert_error(await client.get(HISTORY), 401, "UNAUTHORIZED")


async def test_an_unknown_anchor_is_404(client: Client, me: dict[str, str]) -> None:
    response = await client.get(HISTORY, params={"as_of": str(uuid.uuid4())}, headers=me)
    assert_error(response, 404, "NOT_FOUND")
