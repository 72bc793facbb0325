"""/api/v1/lists through the real app on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.helpers import Client, assert_error
from tests.api.organising import (
    LISTS,
    TASKS,
    Headers,
    create_list,
    create_task,
    data,
    field_names,
    get_list,
    history,
    history_of,
    list_tasks,
)


async def names(client: Client, me: Headers, **params: Any) -> list[str]:
    params.setdefault("limit", 100)
    page = data(await client.get(LISTS, params=params, headers=me))
    return [item["name"] for item in page["items"]]


# --- create, read -----------------------------------------------------------------------


async def test_create_answers_201_with_etag_location_and_popup(client: Client, me: Headers) -> None:
    response = await client.post(LISTS, json={"name": "  Work  ", "color": "#A1b2C3"}, headers=me)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["popup"] == "LIST_CREATED"
    created = body["data"]
    assert set(created) == {
        "id",
        "name",
        "color",
        "position",
        "open_count",
        "completed_count",
        "created_at",
        "updated_at",
        "version",
    }
    assert (created["name"], created["color"], created["version"]) == ("Work", "#A1b2C3", 1)
    assert (created["open_count"], created["completed_count"]) == (0, 0)
    assert response.headers["etag"] == '"1"'
    got = await client.get(f"{LISTS}/{created['id']}", headers=me)
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json()["data"] == created
    assert got.json()["popup"] is None


async def test_color_is_optional_and_nullable(client: Client, me: Headers) -> None:
    assert (await create_list(client, me, name="a"))["color"] is None
    assert (await create_list(client, me, name="b", color=None))["color"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "ok", "color": "red"}, "color"),
        ({"name": "ok", "color": "#12345"}, "color"),
        ({"name": "ok", "color": "#1234567"}, "color"),
        ({"name": "ok", "color": "#GGGGGG"}, "color"),
        ({"name": "ok", "color": "123456"}, "color"),
        ({"name": "ok", "color": "#123456\n"}, "color"),
        ({"name": "ok", "id": str(uuid.uuid4())}, "id"),
        ({"name": "ok", "open_count": 3}, "open_count"),
        ({"name": "ok", "position": "a0"}, "position"),
    ],
)
async def test_create_rejects_bad_input_naming_the_field(
    client: Client, me: Headers, body: dict[str, Any], field: str
) -> None:
    response = await client.post(LISTS, json=body, headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert any(field in (name or "") for name in field_names(response)), response.text
    assert await names(client, me) == []


async def test_hundred_characters_after_trimming_are_fine(client: Client, me: Headers) -> None:
    assert (await create_list(client, me, name="x" * 100))["name"] == "x" * 100


async def test_names_are_unique_per_user_case_insensitively(
    client: Client, me: Headers, other: Headers
) -> None:
    await create_list(client, me, name="Work")
    for taken in ("Work", "work", " WORK ", "wOrK"):
        response = await client.post(LISTS, json={"name": taken}, headers=me)
        assert_error(response, 409, "LIST_NAME_TAKEN")
    await create_list(client, other, name="work")  # another user's names do not count
    assert await names(client, me) == ["Work"]


async def test_another_users_list_is_404_exactly_like_a_missing_one(
    client: Client, me: Headers, other: Headers
) -> None:
    theirs = await create_list(client, other, name="Theirs")
    await create_task(client, other, list_id=theirs["id"])
    errors = []
    for list_id in (theirs["id"], str(uuid.uuid4())):
        calls = [
            client.get(f"{LISTS}/{list_id}", headers=me),
            client.patch(f"{LISTS}/{list_id}", json={"name": "mine"}, headers=me),
            client.post(f"{LISTS}/{list_id}/move", json={}, headers=me),
            client.delete(f"{LISTS}/{list_id}", headers=me),
            client.delete(f"{LISTS}/{list_id}", params={"with_tasks": "true"}, headers=me),
        ]
        for call in calls:
            body = assert_error(await call, 404, "LIST_NOT_FOUND")
            errors.append((body["error"]["code"], body["error"]["message"]))
    assert len(set(errors)) == 1
    after = await get_list(client, other, theirs["id"])
    assert (after["name"], after["version"], after["open_count"]) == ("Theirs", 1, 1)
    assert await names(client, me) == []


async def test_malformed_id_is_422(client: Client, me: Headers) -> None:
    response = await client.get(f"{LISTS}/not-a-uuid", headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_without_a_token_401(client: Client) -> None:
    response = await client.get(LISTS)
    assert_error(response, 401, "UNAUTHORIZED")


# --- update, If-Match -------------------------------------------------------------------


async def test_patch_renames_recolors_and_bumps_the_version(client: Client, me: Headers) -> None:
    created = await create_list(client, me, name="Work", color="#000000")
    response = await client.patch(f"{LISTS}/{created['id']}", json={"name": " Job "}, headers=me)
    assert response.status_code == 200, response.text
    assert response.json()["popup"] == "LIST_UPDATED"
    assert response.headers["etag"] == '"2"'
    updated = response.json()["data"]
    assert (updated["name"], updated["color"], updated["version"]) == ("Job", "#000000", 2)
    cleared = data(await client.patch(f"{LISTS}/{created['id']}", json={"color": None}, headers=me))
    assert (cleared["name"], cleared["color"], cleared["version"]) == ("Job", None, 3)
    same = data(await client.patch(f"{LISTS}/{created['id']}", json={"name": "Job"}, headers=me))
    assert same["version"] == 3
    # Changing only the letter case of its own name is allowed.
    recased = data(await client.patch(f"{LISTS}/{created['id']}", json={"name": "JOB"}, headers=me))
    assert (recased["name"], recased["version"]) == ("JOB", 4)


async def test_patch_rules(client: Client, me: Headers) -> None:
    created = await create_list(client, me, name="Work")
    await create_list(client, me, name="Home")
    response = await client.patch(f"{LISTS}/{created['id']}", json={"name": "HOME"}, headers=me)
    assert_error(response, 409, "LIST_NAME_TAKEN")
    for body in ({}, {"name": ""}, {"color": "blue"}, {"version": 5}, {"name": None}):
        response = await client.patch(f"{LISTS}/{created['id']}", json=body, headers=me)
        assert_error(response, 422, "VALIDATION_ERROR")
    assert (await get_list(client, me, created["id"]))["version"] == 1


async def test_if_match_on_patch_move_and_delete(client: Client, me: Headers) -> None:
    created = await create_list(client, me, name="Work")
    other_list = await create_list(client, me, name="Home")
    url = f"{LISTS}/{created['id']}"
    stale = {**me, "If-Match": '"2"'}
    assert_error(
        await client.patch(url, json={"name": "x"}, headers=stale), 412, "VERSION_CONFLICT"
    )
    assert_error(
        await client.post(f"{url}/move", json={"after_id": other_list["id"]}, headers=stale),
        412,
        "VERSION_CONFLICT",
    )
    assert_error(await client.delete(url, headers=stale), 412, "VERSION_CONFLICT")
    assert (await get_list(client, me, created["id"]))["version"] == 1
    response = await client.patch(url, json={"name": "x"}, headers={**me, "If-Match": '"1"'})
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    response = await client.post(
        f"{url}/move", json={"after_id": other_list["id"]}, headers={**me, "If-Match": '"2"'}
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"3"'
    response = await client.delete(url, headers={**me, "If-Match": '"3"'})
    assert response.status_code == 200


# --- order ------------------------------------------------------------------------------


async def test_lists_come_in_manual_order_new_ones_last(client: Client, me: Headers) -> None:
    made = {n: await create_list(client, me, name=n) for n in ("a", "b", "c", "d")}
    assert await names(client, me) == ["a", "b", "c", "d"]
    moved = data(
        await client.post(
            f"{LISTS}/{made['d']['id']}/move", json={"after_id": made["a"]["id"]}, headers=me
        )
    )
    assert moved["version"] == 2
    assert await names(client, me) == ["a", "d", "b", "c"]
    response = await client.post(
        f"{LISTS}/{made['a']['id']}/move", json={"before_id": made["c"]["id"]}, headers=me
    )
    assert response.json()["popup"] == "LIST_MOVED"
    assert await names(client, me) == ["d", "b", "a", "c"]
    await client.post(f"{LISTS}/{made['d']['id']}/move", json={}, headers=me)  # last
    assert await names(client, me) == ["b", "a", "c", "d"]
    await client.post(
        f"{LISTS}/{made['d']['id']}/move",
        json={"after_id": made["b"]["id"], "before_id": made["a"]["id"]},
        headers=me,
    )
    assert await names(client, me) == ["b", "d", "a", "c"]
    for name in ("b", "c"):
        assert (await get_list(client, me, made[name]["id"]))["version"] == 1
    # Pages follow the same order.
    first = await names(client, me, limit=2)
    second = await names(client, me, limit=2, page=2)
    assert first + second == ["b", "d", "a", "c"]


async def test_move_neighbours_must_be_own_other_lists(
    client: Client, me: Headers, other: Headers
) -> None:
    a = await create_list(client, me, name="a")
    b = await create_list(client, me, name="b")
    theirs = await create_list(client, other, name="theirs")
    for body in (
        {"after_id": theirs["id"]},
        {"before_id": str(uuid.uuid4())},
        {"after_id": a["id"]},  # itself
        {"after_id": "nope"},
        {"after_id": b["id"], "before_id": b["id"]},
    ):
        response = await client.post(f"{LISTS}/{a['id']}/move", json=body, headers=me)
        assert_error(response, 422, "VALIDATION_ERROR")
    response = await client.post(
        f"{LISTS}/{b['id']}/move", json={"after_id": a["id"], "before_id": a["id"]}, headers=me
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert await names(client, me) == ["a", "b"]


async def test_list_pagination_rules(client: Client, me: Headers) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"page": 0}, {"offset": -1}, {"sort": "name"}):
        response = await client.get(LISTS, params=params, headers=me)
        assert_error(response, 422, "VALIDATION_ERROR")
    for n in range(3):
        await create_list(client, me, name=f"l{n}")
    page = data(await client.get(LISTS, params={"limit": 2, "offset": 1}, headers=me))
    assert [i["name"] for i in page["items"]] == ["l1", "l2"]
    assert (page["total"], page["limit"]) == (3, 2)
    past = data(await client.get(LISTS, params={"page": 9}, headers=me))
    assert (past["items"], past["total"]) == ([], 3)


# --- delete -----------------------------------------------------------------------------


async def test_delete_of_an_empty_list(client: Client, me: Headers) -> None:
    created = await create_list(client, me, name="Work")
    response = await client.delete(f"{LISTS}/{created['id']}", headers=me)
    assert response.status_code == 200, response.text
    assert response.json()["popup"] == "LIST_DELETED"
    assert response.json()["data"] == {"id": created["id"]}
    assert_error(await client.get(f"{LISTS}/{created['id']}", headers=me), 404, "LIST_NOT_FOUND")
    assert_error(await client.delete(f"{LISTS}/{created['id']}", headers=me), 404, "LIST_NOT_FOUND")
    # The name is free again.
    await create_list(client, me, name="work")


async def test_delete_of_a_list_with_tasks_is_409_unless_with_tasks(
    client: Client, me: Headers
) -> None:
    work = await create_list(client, me, name="Work")
    done = await create_task(client, me, title="done", list_id=work["id"])
    await client.patch(f"{TASKS}/{done['id']}/complete", headers=me)
    parent = await create_task(client, me, title="parent", list_id=work["id"])
    child = await create_task(client, me, title="child", parent_id=parent["id"])
    grandchild = await create_task(client, me, title="grandchild", parent_id=child["id"])
    inbox = await create_task(client, me, title="inbox")
    for params in ({}, {"with_tasks": "false"}):
        response = await client.delete(f"{LISTS}/{work['id']}", params=params, headers=me)
        assert_error(response, 409, "LIST_NOT_EMPTY")
    assert (await list_tasks(client, me))["total"] == 5
    response = await client.delete(
        f"{LISTS}/{work['id']}", params={"with_tasks": "true"}, headers=me
    )
    assert response.status_code == 200, response.text
    assert response.json()["popup"] == "LIST_DELETED"
    remaining = await list_tasks(client, me)
    assert [t["id"] for t in remaining["items"]] == [inbox["id"]]
    deleted = await history(client, me, action_type="DELETED")
    assert sorted(e["task_id"] for e in deleted) == sorted(
        t["id"] for t in (done, parent, child, grandchild)
    )
    assert len({e["timestamp"] for e in deleted}) == 1
    assert {e["task_title"] for e in deleted} == {"done", "parent", "child", "grandchild"}
    assert_error(await client.get(f"{LISTS}/{work['id']}", headers=me), 404, "LIST_NOT_FOUND")
    assert [e["action_type"] for e in await history_of(client, me, inbox["id"])] == ["CREATED"]


async def test_with_tasks_must_be_a_boolean(client: Client, me: Headers) -> None:
    work = await create_list(client, me, name="Work")
    response = await client.delete(
        f"{LISTS}/{work['id']}", params={"with_tasks": "maybe"}, headers=me
    )
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_a_list_emptied_by_moving_its_tasks_out_can_be_deleted(
    client: Client, me: Headers
) -> None:
    work = await create_list(client, me, name="Work")
    task = await create_task(client, me, list_id=work["id"])
    await client.post(f"{TASKS}/{task['id']}/move", json={"list_id": None}, headers=me)
    response = await client.delete(f"{LISTS}/{work['id']}", headers=me)
    assert response.status_code == 200, response.text


# --- counts -----------------------------------------------------------------------------


async def test_counts_follow_every_change(client: Client, me: Headers) -> None:
    work = await create_list(client, me, name="Work")
    home = await create_list(client, me, name="Home")

    async def counts() -> tuple[int, int, int, int]:
        w = await get_list(client, me, work["id"])
        h = await get_list(client, me, home["id"])
        return w["open_count"], w["completed_count"], h["open_count"], h["completed_count"]

    a = await create_task(client, me, list_id=work["id"])
    b = await create_task(client, me, list_id=work["id"])
    await create_task(client, me, parent_id=b["id"])
    await create_task(client, me)  # Inbox
    assert await counts() == (3, 0, 0, 0)
    await client.patch(f"{TASKS}/{a['id']}/complete", headers=me)
    assert await counts() == (2, 1, 0, 0)
    await client.post(f"{TASKS}/{b['id']}/move", json={"list_id": home["id"]}, headers=me)
    assert await counts() == (0, 1, 2, 0)
    await client.patch(f"{TASKS}/{a['id']}", json={"list_id": home["id"]}, headers=me)
    assert await counts() == (0, 0, 2, 1)
    await client.delete(f"{TASKS}/{b['id']}", headers=me)
    assert await counts() == (0, 0, 0, 1)
    page = data(await client.get(LISTS, headers=me))
    by_name = {i["name"]: (i["open_count"], i["completed_count"]) for i in page["items"]}
    assert by_name == {"Work": (0, 0), "Home": (0, 1)}


async def test_counts_stay_exact_under_concurrent_writes(client: Client, me: Headers) -> None:
    work = await create_list(client, me, name="Work")
    home = await create_list(client, me, name="Home")
    tasks = [await create_task(client, me, list_id=work["id"]) for _ in range(12)]
    calls = []
    for i, task in enumerate(tasks):
        if i % 3 == 0:
            calls.append(client.patch(f"{TASKS}/{task['id']}/toggle", headers=me))
        elif i % 3 == 1:
            calls.append(
                client.post(f"{TASKS}/{task['id']}/move", json={"list_id": home["id"]}, headers=me)
            )
        else:
            calls.append(client.delete(f"{TASKS}/{task['id']}", headers=me))
    calls.append(client.post(TASKS, json={"title": "new", "list_id": work["id"]}, headers=me))
    calls += [
        client.post(TASKS, json={"title": f"new {i}", "list_id": home["id"]}, headers=me)
        for i in range(5)
    ]
    responses = await asyncio.gather(*calls)
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    w = await get_list(client, me, work["id"])
    h = await get_list(client, me, home["id"])
    assert (w["open_count"], w["completed_count"]) == (1, 4)
    assert (h["open_count"], h["completed_count"]) == (9, 0)
    for listed in (w, h):
        open_tasks = await list_tasks(client, me, list_id=listed["id"], status="open")
        done_tasks = await list_tasks(client, me, list_id=listed["id"], status="completed")
        assert (open_tasks["total"], done_tasks["total"]) == (
            listed["open_count"],
            listed["completed_count"],
        )


# --- limit ------------------------------------------------------------------------------


async def test_a_user_has_at_most_a_thousand_lists(
    client: Client, me: Headers, other: Headers, engine: AsyncEngine
) -> None:
    first = await create_list(client, me, name="first")
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO lists (id, user_id, name, name_key, color, position, created_at, "
                "updated_at, version) SELECT gen_random_uuid(), user_id, 'bulk ' || n, "
                "'bulk ' || n, NULL, 'b' || lpad(n::text, 4, '0'), now(), now(), 1 "
                "FROM lists, generate_series(1, 998) AS n WHERE id = :id"
            ),
            {"id": first["id"]},
        )
    last = await create_list(client, me, name="the thousandth")
    response = await client.post(LISTS, json={"name": "one too many"}, headers=me)
    assert_error(response, 409, "LIMIT_REACHED")
    assert data(await client.get(LISTS, headers=me))["total"] == 1000
    await create_list(client, other, name="one too many")  # per user
    assert (await client.delete(f"{LISTS}/{last['id']}", headers=me)).status_code == 200
    await create_list(client, me, name="one too many")


async def test_delete_racing_new_tasks_is_either_done_or_list_not_empty(
    client: Client, me: Headers
) -> None:
    for round_ in range(6):
        work = await create_list(client, me, name=f"Work {round_}")
        creates = [
            client.post(TASKS, json={"title": f"t{i}", "list_id": work["id"]}, headers=me)
            for i in range(4)
        ]
        delete = client.delete(f"{LISTS}/{work['id']}", headers=me)
        deleted, *created = await asyncio.gather(delete, *creates)
        made = [r for r in created if r.status_code == 201]
        for response in created:
            if response.status_code != 201:
                assert_error(response, 422, "VALIDATION_ERROR")
        if deleted.status_code == 200:
            assert made == []
        else:
            assert_error(deleted, 409, "LIST_NOT_EMPTY")
            assert made
            assert (await get_list(client, me, work["id"]))["open_count"] == len(made)
