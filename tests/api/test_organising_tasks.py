"""v1.1 task fields through HTTP on real PostgreSQL: create and update rules, moves,
subtasks, deletes with subtasks, MOVED / UPDATED history with changes, If-Match."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.api.helpers import Client, assert_error
from tests.api.organising import (
    TASKS,
    Headers,
    create_list,
    create_task,
    field_names,
    get_list,
    get_task,
    history,
    history_of,
    list_tasks,
    move_task,
    patch_task,
    titles,
)

# --- fields on create -------------------------------------------------------------------


async def test_create_defaults_are_inbox_top_level_no_due_priority_none(
    client: Client, me: Headers
) -> None:
    task = await create_task(client, me, title="Plain")
    assert task["list_id"] is None
    assert task["parent_id"] is None
    assert task["due_date"] is None
    assert task["due_at"] is None
    assert task["priority"] == "none"
    assert task["labels"] == []
    assert isinstance(task["position"], str)
    assert task["position"]


async def test_create_takes_every_field(client: Client, me: Headers) -> None:
    work = await create_list(client, me, name="Work")
    task = await create_task(
        client,
        me,
        title="Report",
        list_id=work["id"],
        due_date="2026-12-01",
        priority="high",
        labels=["Q4", "finance"],
    )
    assert (task["list_id"], task["due_date"], task["due_at"]) == (work["id"], "2026-12-01", None)
    assert (task["priority"], task["labels"]) == ("high", ["Q4", "finance"])
    assert await get_task(client, me, task["id"]) == task


async def test_due_at_is_stored_in_utc(client: Client, me: Headers) -> None:
    task = await create_task(client, me, due_at="2026-11-23T09:30:00+01:00")
    assert task["due_at"] in ("2026-11-23T08:30:00Z", "2026-11-23T08:30:00+00:00")
    again = await get_task(client, me, task["id"])
    assert again["due_at"] == task["due_at"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due_at": "2026-11-23T09:30:00"}, "due_at"),  # no offset
        ({"due_date": "2026-11-23T00:00:00Z"}, "due_date"),
        ({"due_date": "2026-02-30"}, "due_date"),
        ({"due_date": "23.11.2026"}, "due_date"),
        ({"priority": "urgent"}, "priority"),
        ({"priority": "HIGH"}, "priority"),
        ({"priority": None}, "priority"),
        ({"labels": "work"}, "labels"),
        ({"labels": [""]}, "labels"),
        ({"labels": ["   "]}, "labels"),
        ({"labels": ["x" * 51]}, "labels"),
        ({"labels": [f"l{i}" for i in range(21)]}, "labels"),
        ({"labels": None}, "labels"),
        ({"labels": [1]}, "labels"),
        ({"list_id": "not-a-uuid"}, "list_id"),
        ({"parent_id": "not-a-uuid"}, "parent_id"),
        ({"position": "a0"}, "position"),
    ],
)
async def test_create_rejects_bad_fields_naming_them(
    client: Client, me: Headers, body: dict[str, Any], field: str
) -> None:
    response = await client.post(TASKS, json={"title": "t", **body}, headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert any(field in (name or "") for name in field_names(response)), response.text
    assert (await list_tasks(client, me))["total"] == 0


async def test_due_date_and_due_at_together_are_422(client: Client, me: Headers) -> None:
    response = await client.post(
        TASKS,
        json={"title": "t", "due_date": "2026-11-23", "due_at": "2026-11-23T10:00:00Z"},
        headers=me,
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    task = await create_task(client, me, due_date="2026-11-23")
    response = await client.patch(
        f"{TASKS}/{task['id']}", json={"due_at": "2026-11-23T10:00:00Z"}, headers=me
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await get_task(client, me, task["id"]))["version"] == 1
    # Switching from one to the other in one request works.
    switched = await patch_task(
        client, me, task["id"], due_date=None, due_at="2026-11-23T10:00:00Z"
    )
    assert switched["due_date"] is None
    assert switched["due_at"].startswith("2026-11-23T10:00:00")


async def test_labels_are_trimmed_and_collapse_case_insensitively_to_the_first(
    client: Client, me: Headers
) -> None:
    task = await create_task(
        client, me, labels=["  Work ", "work", "WORK", "home", "Home", "x" * 50]
    )
    assert task["labels"] == ["Work", "home", "x" * 50]


async def test_twenty_labels_after_collapsing_are_fine(client: Client, me: Headers) -> None:
    raw = [f"l{i}" for i in range(20)] + [f"L{i}" for i in range(20)]
    task = await create_task(client, me, labels=raw)
    assert task["labels"] == [f"l{i}" for i in range(20)]


async def test_another_users_list_is_422_on_list_id_exactly_like_an_unknown_one(
    client: Client, me: Headers, other: Headers
) -> None:
    theirs = await create_list(client, other, name="Theirs")
    answers = []
    for list_id in (theirs["id"], str(uuid.uuid4())):
        response = await client.post(TASKS, json={"title": "t", "list_id": list_id}, headers=me)
        body = assert_error(response, 422, "VALIDATION_ERROR")
        assert field_names(response) == {"list_id"}
        answers.append({k: v for k, v in body["error"].items() if k != "request_id"})
    assert answers[0] == answers[1]
    task = await create_task(client, me)
    for list_id in (theirs["id"], str(uuid.uuid4())):
        response = await client.patch(
            f"{TASKS}/{task['id']}", json={"list_id": list_id}, headers=me
        )
        assert_error(response, 422, "VALIDATION_ERROR")
        assert field_names(response) == {"list_id"}
        response = await client.post(
            f"{TASKS}/{task['id']}/move", json={"list_id": list_id}, headers=me
        )
        assert_error(response, 422, "VALIDATION_ERROR")
        assert field_names(response) == {"list_id"}
    assert (await get_list(client, other, theirs["id"]))["open_count"] == 0


async def test_another_users_parent_is_422_on_parent_id_like_an_unknown_one(
    client: Client, me: Headers, other: Headers
) -> None:
    theirs = await create_task(client, other)
    mine = await create_task(client, me)
    for parent_id in (theirs["id"], str(uuid.uuid4())):
        response = await client.post(TASKS, json={"title": "t", "parent_id": parent_id}, headers=me)
        assert_error(response, 422, "VALIDATION_ERROR")
        assert field_names(response) == {"parent_id"}
        response = await client.patch(
            f"{TASKS}/{mine['id']}", json={"parent_id": parent_id}, headers=me
        )
        assert_error(response, 422, "VALIDATION_ERROR")
        response = await client.post(
            f"{TASKS}/{mine['id']}/move", json={"parent_id": parent_id}, headers=me
        )
        assert_error(response, 422, "VALIDATION_ERROR")
        assert field_names(response) == {"parent_id"}
    assert (await get_task(client, other, theirs["id"]))["version"] == 1


# --- update rules -----------------------------------------------------------------------


async def test_update_keeps_absent_fields_clears_nulls_and_replaces_labels(
    client: Client, me: Headers
) -> None:
    task = await create_task(
        client, me, due_date="2026-12-24", priority="low", labels=["a", "b"], description="d"
    )
    changed = await patch_task(client, me, task["id"], labels=["c"])
    assert changed["labels"] == ["c"]
    assert (changed["due_date"], changed["priority"], changed["description"]) == (
        "2026-12-24",
        "low",
        "d",
    )
    assert changed["version"] == 2
    cleared = await patch_task(client, me, task["id"], due_date=None, labels=[])
    assert (cleared["due_date"], cleared["labels"], cleared["priority"]) == (None, [], "low")
    assert cleared["version"] == 3


async def test_update_with_the_same_values_writes_nothing(client: Client, me: Headers) -> None:
    task = await create_task(client, me, priority="high", labels=["a"])
    same = await patch_task(client, me, task["id"], priority="high", labels=["A"])
    # "A" is a different spelling: the labels change; "high" does not.
    assert same["labels"] == ["A"]
    again = await patch_task(client, me, task["id"], priority="high", labels=["A"])
    assert again["version"] == same["version"]
    entries = await history_of(client, me, task["id"])
    assert [e["action_type"] for e in entries] == ["UPDATED", "CREATED"]


async def test_position_is_read_only(client: Client, me: Headers) -> None:
    task = await create_task(client, me)
    for method in ("PATCH", "PUT"):
        response = await client.request(
            method, f"{TASKS}/{task['id']}", json={"position": "a1"}, headers=me
        )
        assert_error(response, 422, "VALIDATION_ERROR")
    response = await client.post(f"{TASKS}/{task['id']}/move", json={"position": "a1"}, headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await get_task(client, me, task["id"]))["version"] == 1


async def test_update_history_lists_every_changed_field(client: Client, me: Headers) -> None:
    task = await create_task(client, me, title="Old", labels=["a"])
    await patch_task(
        client,
        me,
        task["id"],
        title="New",
        priority="medium",
        labels=["a", "b"],
        due_at="2026-11-23T10:00:00+02:00",
    )
    entry = (await history_of(client, me, task["id"]))[0]
    assert entry["action_type"] == "UPDATED"
    assert entry["task_title"] == "New"
    changes = entry["changes"]
    assert set(changes) == {"title", "priority", "labels", "due_at"}
    assert changes["title"] == {"from": "Old", "to": "New"}
    assert changes["priority"] == {"from": "none", "to": "medium"}
    assert changes["labels"] == {"from": ["a"], "to": ["a", "b"]}
    assert changes["due_at"]["from"] is None
    assert changes["due_at"]["to"].startswith("2026-11-23T08:00:00")


async def test_changing_the_list_by_update_is_a_move_whose_changes_list_every_field(
    client: Client, me: Headers
) -> None:
    work = await create_list(client, me, name="Work")
    task = await create_task(client, me, title="Old")
    moved = await patch_task(client, me, task["id"], list_id=work["id"], title="New")
    assert moved["list_id"] == work["id"]
    assert moved["version"] == 2
    entries = await history_of(client, me, task["id"])
    assert [e["action_type"] for e in entries] == ["MOVED", "CREATED"]
    changes = entries[0]["changes"]
    assert changes["list_id"] == {"from": None, "to": work["id"]}
    assert changes["title"] == {"from": "Old", "to": "New"}
    assert set(changes) <= {"list_id", "title", "position"}
    assert (await get_list(client, me, work["id"]))["open_count"] == 1


# --- moves and manual order -------------------------------------------------------------


async def manual(client: Client, me: Headers, **params: Any) -> list[str]:
    return await titles(client, me, sort="manual", **params)


async def test_new_tasks_go_last_in_manual_order(client: Client, me: Headers) -> None:
    for title in ("a", "b", "c", "d"):
        await create_task(client, me, title=title)
    assert await manual(client, me) == ["a", "b", "c", "d"]


async def test_move_between_siblings_writes_only_the_moved_task(
    client: Client, me: Headers
) -> None:
    made = {t: await create_task(client, me, title=t) for t in ("a", "b", "c", "d")}
    moved = await move_task(client, me, made["d"]["id"], after_id=made["a"]["id"])
    assert moved["version"] == 2
    assert await manual(client, me) == ["a", "d", "b", "c"]
    moved = await move_task(client, me, made["a"]["id"], before_id=made["c"]["id"])
    assert await manual(client, me) == ["d", "b", "a", "c"]
    moved = await move_task(client, me, made["c"]["id"], before_id=made["d"]["id"])
    assert await manual(client, me) == ["c", "d", "b", "a"]
    moved = await move_task(client, me, made["c"]["id"])  # no neighbour: stays put
    assert moved["version"] == 2
    for title in ("b",):
        assert (await get_task(client, me, made[title]["id"]))["version"] == 1
    entry = (await history_of(client, me, made["d"]["id"]))[0]
    assert entry["action_type"] == "MOVED"
    assert set(entry["changes"]) == {"position"}
    assert entry["changes"]["position"]["from"] == made["d"]["position"]


async def test_move_with_both_neighbours_goes_between_them(client: Client, me: Headers) -> None:
    made = {t: await create_task(client, me, title=t) for t in ("a", "b", "c")}
    await move_task(
        client, me, made["c"]["id"], after_id=made["a"]["id"], before_id=made["b"]["id"]
    )
    assert await manual(client, me) == ["a", "c", "b"]


async def test_move_to_where_it_already_is_changes_nothing(client: Client, me: Headers) -> None:
    made = {t: await create_task(client, me, title=t) for t in ("a", "b", "c")}
    same = await move_task(client, me, made["b"]["id"], after_id=made["a"]["id"])
    assert same["version"] == 1
    same = await move_task(client, me, made["b"]["id"], before_id=made["c"]["id"])
    assert same["version"] == 1
    assert [e["action_type"] for e in await history_of(client, me, made["b"]["id"])] == ["CREATED"]


async def test_neighbours_must_be_siblings_at_the_destination(
    client: Client, me: Headers, other: Headers
) -> None:
    work = await create_list(client, me, name="Work")
    inbox_task = await create_task(client, me, title="inbox")
    in_work = await create_task(client, me, title="work", list_id=work["id"])
    moving = await create_task(client, me, title="moving")
    child = await create_task(client, me, title="child", parent_id=inbox_task["id"])
    theirs = await create_task(client, other)
    bad = [
        {"after_id": in_work["id"]},  # in another list
        {"before_id": in_work["id"]},
        {"after_id": child["id"]},  # under a parent
        {"after_id": theirs["id"]},
        {"before_id": str(uuid.uuid4())},
        {"after_id": moving["id"]},  # itself
        {"list_id": work["id"], "after_id": inbox_task["id"]},
        {"after_id": "nope"},
    ]
    for body in bad:
        response = await client.post(f"{TASKS}/{moving['id']}/move", json=body, headers=me)
        assert_error(response, 422, "VALIDATION_ERROR")
        assert field_names(response) & {"after_id", "before_id"}, (body, response.text)
    assert (await get_task(client, me, moving["id"]))["version"] == 1


async def test_neighbours_in_the_wrong_order_are_422(client: Client, me: Headers) -> None:
    made = {t: await create_task(client, me, title=t) for t in ("a", "b", "c")}
    response = await client.post(
        f"{TASKS}/{made['c']['id']}/move",
        json={"after_id": made["b"]["id"], "before_id": made["a"]["id"]},
        headers=me,
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert await manual(client, me) == ["a", "b", "c"]


async def test_with_both_neighbours_not_adjacent_it_goes_right_after_the_first(
    client: Client, me: Headers
) -> None:
    made = {t: await create_task(client, me, title=t) for t in ("a", "b", "c", "d")}
    await move_task(
        client, me, made["d"]["id"], after_id=made["a"]["id"], before_id=made["c"]["id"]
    )
    assert await manual(client, me) == ["a", "d", "b", "c"]


async def test_move_to_a_list_puts_it_last_and_back_to_the_inbox(
    client: Client, me: Headers
) -> None:
    work = await create_list(client, me, name="Work")
    first = await create_task(client, me, title="w1", list_id=work["id"])
    task = await create_task(client, me, title="t")
    moved = await move_task(client, me, task["id"], list_id=work["id"])
    assert moved["list_id"] == work["id"]
    assert await manual(client, me, list_id=work["id"]) == ["w1", "t"]
    before = await move_task(client, me, task["id"], before_id=first["id"])
    assert await manual(client, me, list_id=work["id"]) == ["t", "w1"]
    assert before["version"] == 3
    back = await move_task(client, me, task["id"], list_id=None)
    assert back["list_id"] is None
    assert await manual(client, me, list_id="inbox") == ["t"]
    entries = await history_of(client, me, task["id"])
    assert [e["action_type"] for e in entries] == ["MOVED", "MOVED", "MOVED", "CREATED"]
    assert entries[0]["changes"]["list_id"] == {"from": work["id"], "to": None}
    assert entries[2]["changes"]["list_id"] == {"from": None, "to": work["id"]}
    counts = await get_list(client, me, work["id"])
    assert (counts["open_count"], counts["completed_count"]) == (1, 0)


async def test_if_match_applies_to_move(client: Client, me: Headers) -> None:
    work = await create_list(client, me, name="Work")
    task = await create_task(client, me)
    response = await client.post(
        f"{TASKS}/{task['id']}/move",
        json={"list_id": work["id"]},
        headers={**me, "If-Match": '"2"'},
    )
    assert_error(response, 412, "VERSION_CONFLICT")
    assert (await get_task(client, me, task["id"]))["list_id"] is None
    response = await client.post(
        f"{TASKS}/{task['id']}/move",
        json={"list_id": work["id"]},
        headers={**me, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert len(await history_of(client, me, task["id"])) == 2


async def test_move_of_another_users_task_is_404(
    client: Client, me: Headers, other: Headers
) -> None:
    theirs = await create_task(client, other)
    for task_id in (theirs["id"], str(uuid.uuid4())):
        response = await client.post(f"{TASKS}/{task_id}/move", json={}, headers=me)
        assert_error(response, 404, "TASK_NOT_FOUND")


async def test_move_body_rules(client: Client, me: Headers) -> None:
    task = await create_task(client, me)
    for body in ([], {"list_id": 5}, {"unknown": 1}, {"after_id": None, "x": 1}):
        response = await client.post(f"{TASKS}/{task['id']}/move", json=body, headers=me)
        assert response.status_code in (400, 422), response.text
    response = await client.post(f"{TASKS}/not-a-uuid/move", json={}, headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")


# --- subtasks ---------------------------------------------------------------------------


async def chain(client: Client, me: Headers, depth: int, **body: Any) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    for level in range(depth):
        extra = {"parent_id": tasks[-1]["id"]} if tasks else dict(body)
        tasks.append(await create_task(client, me, title=f"level {level + 1}", **extra))
    return tasks


async def test_subtask_takes_its_parents_list(client: Client, me: Headers) -> None:
    work = await create_list(client, me, name="Work")
    parent = await create_task(client, me, list_id=work["id"])
    child = await create_task(client, me, parent_id=parent["id"])
    assert (child["parent_id"], child["list_id"]) == (parent["id"], work["id"])
    same = await create_task(client, me, parent_id=parent["id"], list_id=work["id"])
    assert same["list_id"] == work["id"]
    response = await client.post(
        TASKS, json={"title": "t", "parent_id": parent["id"], "list_id": None}, headers=me
    )
    # list_id null is the Inbox, the parent is in Work: not the same list.
    assert_error(response, 422, "VALIDATION_ERROR")
    home = await create_list(client, me, name="Home")
    response = await client.post(
        TASKS, json={"title": "t", "parent_id": parent["id"], "list_id": home["id"]}, headers=me
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert field_names(response) & {"list_id", "parent_id"}


async def test_parent_filter_and_top_level(client: Client, me: Headers) -> None:
    parent = await create_task(client, me, title="parent")
    await create_task(client, me, title="child 1", parent_id=parent["id"])
    await create_task(client, me, title="child 2", parent_id=parent["id"])
    assert await manual(client, me, parent_id=parent["id"]) == ["child 1", "child 2"]
    assert await manual(client, me, parent_id="none") == ["parent"]


async def test_depth_is_at_most_four(client: Client, me: Headers) -> None:
    levels = await chain(client, me, 4)
    assert levels[-1]["parent_id"] == levels[-2]["id"]
    response = await client.post(
        TASKS, json={"title": "level 5", "parent_id": levels[-1]["id"]}, headers=me
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert field_names(response) == {"parent_id"}
    # A task with a subtask (height 2) fits under level 2, not under level 3.
    top = await create_task(client, me, title="top")
    await create_task(client, me, title="under top", parent_id=top["id"])
    response = await client.post(
        f"{TASKS}/{top['id']}/move", json={"parent_id": levels[2]["id"]}, headers=me
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    response = await client.patch(
        f"{TASKS}/{top['id']}", json={"parent_id": levels[2]["id"]}, headers=me
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    moved = await move_task(client, me, top["id"], parent_id=levels[1]["id"])
    assert moved["parent_id"] == levels[1]["id"]


async def test_cycles_are_422(client: Client, me: Headers) -> None:
    a, b, c = await chain(client, me, 3)
    for target in (a, b, c):
        for send in ("move", "patch"):
            if send == "move":
                response = await client.post(
                    f"{TASKS}/{a['id']}/move", json={"parent_id": target["id"]}, headers=me
                )
            else:
                response = await client.patch(
                    f"{TASKS}/{a['id']}", json={"parent_id": target["id"]}, headers=me
                )
            assert_error(response, 422, "VALIDATION_ERROR")
            assert field_names(response) == {"parent_id"}
    assert (await get_task(client, me, a["id"]))["version"] == 1


async def test_moving_a_parent_to_a_list_moves_its_subtasks_and_puts_it_last(
    client: Client, me: Headers
) -> None:
    work = await create_list(client, me, name="Work")
    existing = await create_task(client, me, title="existing", list_id=work["id"])
    a, b, c = await chain(client, me, 3)
    other_inbox = await create_task(client, me, title="bystander")
    moved = await move_task(client, me, a["id"], list_id=work["id"])
    assert moved["list_id"] == work["id"]
    for task in (b, c):
        now = await get_task(client, me, task["id"])
        assert now["list_id"] == work["id"]
        assert now["parent_id"] == task["parent_id"]
        entry = (await history_of(client, me, task["id"]))[0]
        assert entry["action_type"] == "MOVED"
        assert entry["changes"]["list_id"] == {"from": None, "to": work["id"]}
    assert await manual(client, me, list_id=work["id"], parent_id="none") == [
        "existing",
        "level 1",
    ]
    assert (await get_task(client, me, existing["id"]))["version"] == 1
    assert (await get_task(client, me, other_inbox["id"]))["version"] == 1
    counts = await get_list(client, me, work["id"])
    assert counts["open_count"] == 4


async def test_moving_under_a_parent_puts_it_last_among_the_parents_children(
    client: Client, me: Headers
) -> None:
    parent = await create_task(client, me, title="parent")
    await create_task(client, me, title="c1", parent_id=parent["id"])
    loose = await create_task(client, me, title="loose")
    moved = await patch_task(client, me, loose["id"], parent_id=parent["id"])
    assert moved["parent_id"] == parent["id"]
    assert await manual(client, me, parent_id=parent["id"]) == ["c1", "loose"]
    entry = (await history_of(client, me, loose["id"]))[0]
    assert entry["action_type"] == "MOVED"
    assert entry["changes"]["parent_id"] == {"from": None, "to": parent["id"]}
    back = await move_task(client, me, loose["id"], parent_id=None)
    assert back["parent_id"] is None
    assert await manual(client, me, parent_id="none") == ["parent", "loose"]


async def test_moving_a_subtask_under_a_parent_in_another_list_follows_that_list(
    client: Client, me: Headers
) -> None:
    work = await create_list(client, me, name="Work")
    parent = await create_task(client, me, title="parent", list_id=work["id"])
    task = await create_task(client, me, title="t")
    kid = await create_task(client, me, title="kid", parent_id=task["id"])
    moved = await move_task(client, me, task["id"], parent_id=parent["id"])
    assert (moved["list_id"], moved["parent_id"]) == (work["id"], parent["id"])
    assert (await get_task(client, me, kid["id"]))["list_id"] == work["id"]
    response = await client.post(
        f"{TASKS}/{task['id']}/move", json={"parent_id": parent["id"], "list_id": None}, headers=me
    )
    assert_error(response, 422, "VALIDATION_ERROR")


# --- deletes ----------------------------------------------------------------------------


async def test_delete_takes_every_subtask_each_with_its_entry(client: Client, me: Headers) -> None:
    work = await create_list(client, me, name="Work")
    a, b, c, d = await chain(client, me, 4, list_id=work["id"])
    sibling = await create_task(client, me, title="sibling of b", parent_id=a["id"])
    keep = await create_task(client, me, title="keep", list_id=work["id"])
    response = await client.delete(f"{TASKS}/{a['id']}", headers=me)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"id": a["id"]}
    for task in (a, b, c, d, sibling):
        assert (await client.get(f"{TASKS}/{task['id']}", headers=me)).status_code == 404
        entries = await history_of(client, me, task["id"])
        assert entries[0]["action_type"] == "DELETED"
        assert entries[0]["task_title"] == task["title"]
    assert (await list_tasks(client, me))["total"] == 1
    assert (await get_task(client, me, keep["id"]))["version"] == 1
    counts = await get_list(client, me, work["id"])
    assert (counts["open_count"], counts["completed_count"]) == (1, 0)
    deleted = await history(client, me, action_type="DELETED")
    assert len(deleted) == 5
    assert len({e["timestamp"] for e in deleted}) == 1


async def test_delete_of_a_subtask_leaves_its_parent(client: Client, me: Headers) -> None:
    a, b = await chain(client, me, 2)
    response = await client.delete(f"{TASKS}/{b['id']}", headers=me)
    assert response.status_code == 200
    assert (await get_task(client, me, a["id"]))["version"] == 1


async def test_delete_with_if_match_checks_the_parent(client: Client, me: Headers) -> None:
    a, b = await chain(client, me, 2)
    response = await client.delete(f"{TASKS}/{a['id']}", headers={**me, "If-Match": '"7"'})
    assert_error(response, 412, "VERSION_CONFLICT")
    assert (await get_task(client, me, b["id"]))["version"] == 1
    response = await client.delete(f"{TASKS}/{a['id']}", headers={**me, "If-Match": '"1"'})
    assert response.status_code == 200


# --- history and v1.0 clients -----------------------------------------------------------


async def test_completing_a_task_in_a_list_moves_the_counts(client: Client, me: Headers) -> None:
    work = await create_list(client, me, name="Work")
    task = await create_task(client, me, list_id=work["id"])
    await client.patch(f"{TASKS}/{task['id']}/complete", headers=me)
    counts = await get_list(client, me, work["id"])
    assert (counts["open_count"], counts["completed_count"]) == (0, 1)
    await client.patch(f"{TASKS}/{task['id']}/toggle", headers=me)
    counts = await get_list(client, me, work["id"])
    assert (counts["open_count"], counts["completed_count"]) == (1, 0)


async def test_a_v1_0_client_keeps_working(client: Client, me: Headers) -> None:
    task = await create_task(client, me, title="Old client", description="d")
    updated = await patch_task(client, me, task["id"], title="Renamed")
    assert updated["priority"] == "none"
    put = await client.put(f"{TASKS}/{task['id']}", json={"description": None}, headers=me)
    assert put.status_code == 200
    entry = (await history_of(client, me, task["id"]))[0]
    assert entry["action_type"] == "UPDATED"
    assert entry["changes"] == {"description": {"from": "d", "to": None}}


# --- concurrency ------------------------------------------------------------------------


async def test_parallel_moves_into_one_gap(client: Client, me: Headers) -> None:
    low = await create_task(client, me, title="low")
    high = await create_task(client, me, title="high")
    movers = [await create_task(client, me, title=f"mover {i}") for i in range(8)]
    bystanders = [await create_task(client, me, title=f"bystander {i}") for i in range(3)]
    responses = await asyncio.gather(
        *(
            client.post(
                f"{TASKS}/{task['id']}/move",
                json={"after_id": low["id"], "before_id": high["id"]},
                headers=me,
            )
            for task in movers
        )
    )
    assert [r.status_code for r in responses] == [200] * len(movers), [r.text for r in responses]
    order = await manual(client, me)
    assert order[0] == "low"
    assert set(order[1 : 1 + len(movers)]) == {t["title"] for t in movers}
    assert order[1 + len(movers)] == "high"
    assert order[2 + len(movers) :] == [t["title"] for t in bystanders]
    # A consistent total order: the same on every read and across pages.
    assert await manual(client, me) == order
    paged: list[str] = []
    for page in range(1, 8):
        paged += await titles(client, me, sort="manual", limit=2, page=page)
    assert paged == order
    for task in (low, high, *bystanders):
        assert (await get_task(client, me, task["id"]))["version"] == 1
    for task in movers:
        now = await get_task(client, me, task["id"])
        assert now["version"] == 2
        assert low["position"] < now["position"] < high["position"]
        entries = await history_of(client, me, task["id"])
        assert [e["action_type"] for e in entries] == ["MOVED", "CREATED"]


async def test_parallel_moves_right_after_one_task(client: Client, me: Headers) -> None:
    anchor = await create_task(client, me, title="anchor")
    tail = await create_task(client, me, title="tail")
    movers = [await create_task(client, me, title=f"mover {i}") for i in range(6)]
    responses = await asyncio.gather(
        *(
            client.post(f"{TASKS}/{t['id']}/move", json={"after_id": anchor["id"]}, headers=me)
            for t in movers
        )
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    order = await manual(client, me)
    assert order[0] == "anchor"
    assert order[-1] == "tail"
    assert (await get_task(client, me, tail["id"]))["version"] == 1


async def test_parallel_moves_of_one_task_each_write_one_entry(client: Client, me: Headers) -> None:
    lists = [await create_list(client, me, name=f"L{i}") for i in range(5)]
    task = await create_task(client, me, title="t")
    await create_task(client, me, title="kid", parent_id=task["id"])
    responses = await asyncio.gather(
        *(
            client.post(f"{TASKS}/{task['id']}/move", json={"list_id": x["id"]}, headers=me)
            for x in lists
        )
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    final = await get_task(client, me, task["id"])
    entries = await history_of(client, me, task["id"])
    moves = [e for e in entries if e["action_type"] == "MOVED"]
    assert final["version"] == 1 + len(moves)
    assert moves[0]["changes"]["list_id"]["to"] == final["list_id"]
    kid = (await list_tasks(client, me, parent_id=task["id"]))["items"][0]
    assert kid["list_id"] == final["list_id"]
    counts = [await get_list(client, me, x["id"]) for x in lists]
    assert sum(c["open_count"] for c in counts) == 2
    assert {c["id"] for c in counts if c["open_count"]} == {final["list_id"]}
