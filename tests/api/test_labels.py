"""/api/v1/labels and label rules on tasks, through the real app on real PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from tests.api.helpers import Client, assert_error
from tests.api.organising import (
    LABELS,
    TASKS,
    Headers,
    create_task,
    data,
    get_task,
    history,
    history_of,
    patch_task,
)


async def usage(client: Client, me: Headers) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = data(await client.get(LABELS, headers=me))["items"]
    return items


def url(name: str) -> str:
    return f"{LABELS}/{quote(name, safe='')}"


# --- normalisation on tasks -------------------------------------------------------------


async def test_labels_are_trimmed_deduplicated_and_bounded(client: Client, me: Headers) -> None:
    task = await create_task(client, me, labels=[" a ", "B", "b", "A", "\tc\n"])
    assert task["labels"] == ["a", "B", "c"]
    changed = await patch_task(client, me, task["id"], labels=["Ünïcode", "ÜNÏCODE", "z" * 50])
    assert changed["labels"] == ["Ünïcode", "z" * 50]
    for bad in ([""], [" "], ["z" * 51], [f"l{i}" for i in range(21)], ["a\x00"]):
        response = await client.patch(f"{TASKS}/{task['id']}", json={"labels": bad}, headers=me)
        assert_error(response, 422, "VALIDATION_ERROR")
    assert (await get_task(client, me, task["id"]))["labels"] == ["Ünïcode", "z" * 50]


async def test_case_folding_collapses_german_sharp_s(client: Client, me: Headers) -> None:
    task = await create_task(client, me, labels=["Straße", "STRASSE"])
    assert task["labels"] == ["Straße"]


# --- GET /labels ------------------------------------------------------------------------


async def test_usage_counts_open_and_all_tasks_by_name(
    client: Client, me: Headers, other: Headers
) -> None:
    assert await usage(client, me) == []
    a = await create_task(client, me, labels=["work", "urgent"])
    await create_task(client, me, labels=["Work"])
    await create_task(client, me, labels=["home"])
    await create_task(client, other, labels=["work", "secret"])
    await client.patch(f"{TASKS}/{a['id']}/complete", headers=me)
    items = await usage(client, me)
    assert [i["name"].lower() for i in items] == ["home", "urgent", "work"]
    by_name = {i["name"].lower(): (i["open_count"], i["task_count"]) for i in items}
    assert by_name == {"home": (1, 1), "urgent": (0, 1), "work": (1, 2)}
    await client.delete(f"{TASKS}/{a['id']}", headers=me)
    by_name = {
        i["name"].lower(): (i["open_count"], i["task_count"]) for i in await usage(client, me)
    }
    assert by_name == {"home": (1, 1), "work": (1, 1)}


async def test_usage_needs_a_token(client: Client) -> None:
    assert_error(await client.get(LABELS), 401, "UNAUTHORIZED")


# --- rename -----------------------------------------------------------------------------


async def test_rename_changes_every_task_with_a_new_version_and_entry(
    client: Client, me: Headers, other: Headers
) -> None:
    one = await create_task(client, me, title="one", labels=["work", "x"])
    two = await create_task(client, me, title="two", labels=["x", "WORK"])
    untouched = await create_task(client, me, title="three", labels=["home"])
    theirs = await create_task(client, other, labels=["work"])
    response = await client.patch(url("Work"), json={"name": "  job  "}, headers=me)
    assert response.status_code == 200, response.text
    assert response.json()["popup"] == "LABEL_RENAMED"
    assert (await get_task(client, me, one["id"]))["labels"] == ["job", "x"]
    assert (await get_task(client, me, two["id"]))["labels"] == ["x", "job"]
    for task, labels in ((one, ["work", "x"]), (two, ["x", "WORK"])):
        now = await get_task(client, me, task["id"])
        assert now["version"] == 2
        entry = (await history_of(client, me, task["id"]))[0]
        assert entry["action_type"] == "UPDATED"
        assert entry["changes"] == {"labels": {"from": labels, "to": now["labels"]}}
    assert (await get_task(client, me, untouched["id"]))["version"] == 1
    assert (await get_task(client, other, theirs["id"]))["labels"] == ["work"]
    names = [i["name"] for i in await usage(client, me)]
    assert names == ["home", "job", "x"]


async def test_rename_merges_into_an_existing_label(client: Client, me: Headers) -> None:
    both = await create_task(client, me, labels=["urgent", "a", "important"])
    only_old = await create_task(client, me, labels=["urgent"])
    only_new = await create_task(client, me, labels=["Important"])
    response = await client.patch(url("urgent"), json={"name": "important"}, headers=me)
    assert response.status_code == 200, response.text
    # Duplicates collapse to the first spelling, in place.
    assert (await get_task(client, me, both["id"]))["labels"] == ["important", "a"]
    assert (await get_task(client, me, only_old["id"]))["labels"] == ["important"]
    assert (await get_task(client, me, only_new["id"]))["version"] == 1
    by_name = {i["name"].lower(): i["task_count"] for i in await usage(client, me)}
    assert by_name == {"a": 1, "important": 3}


async def test_rename_to_another_letter_case(client: Client, me: Headers) -> None:
    task = await create_task(client, me, labels=["work"])
    response = await client.patch(url("WORK"), json={"name": "Work"}, headers=me)
    assert response.status_code == 200, response.text
    assert (await get_task(client, me, task["id"]))["labels"] == ["Work"]


async def test_rename_rules(client: Client, me: Headers, other: Headers) -> None:
    task = await create_task(client, me, labels=["work"])
    await create_task(client, other, labels=["theirs"])
    for name in ("nothing", "theirs"):
        response = await client.patch(url(name), json={"name": "x"}, headers=me)
        assert_error(response, 404, "LABEL_NOT_FOUND")
    for body in ({}, {"name": ""}, {"name": "   "}, {"name": "z" * 51}, {"name": 3}, {"x": 1}):
        response = await client.patch(url("work"), json=body, headers=me)
        assert_error(response, 422, "VALIDATION_ERROR")
    assert (await get_task(client, me, task["id"]))["version"] == 1


async def test_names_with_spaces_and_percent_signs_in_the_path(client: Client, me: Headers) -> None:
    # (A label with "/" cannot be addressed: the server decodes %2F before routing.)
    task = await create_task(client, me, labels=["to do", "a?b", "50%"])
    for name, new in (("to do", "todo"), ("a?b", "ab"), ("50%", "half")):
        response = await client.patch(url(name), json={"name": new}, headers=me)
        assert response.status_code == 200, (name, response.text)
    assert (await get_task(client, me, task["id"]))["labels"] == ["todo", "ab", "half"]


# --- delete -----------------------------------------------------------------------------


async def test_delete_removes_it_from_every_task(client: Client, me: Headers) -> None:
    one = await create_task(client, me, labels=["a", "work"])
    two = await create_task(client, me, labels=["Work"])
    three = await create_task(client, me, labels=["b"])
    response = await client.delete(url("WORK"), headers=me)
    assert response.status_code == 200, response.text
    assert response.json()["popup"] == "LABEL_DELETED"
    assert (await get_task(client, me, one["id"]))["labels"] == ["a"]
    emptied = await get_task(client, me, two["id"])
    assert (emptied["labels"], emptied["version"]) == ([], 2)
    assert (await get_task(client, me, three["id"]))["version"] == 1
    entry = (await history_of(client, me, two["id"]))[0]
    assert entry["changes"] == {"labels": {"from": ["Work"], "to": []}}
    assert_error(await client.delete(url("work"), headers=me), 404, "LABEL_NOT_FOUND")
    assert [i["name"] for i in await usage(client, me)] == ["a", "b"]


async def test_many_tasks_change_in_one_go(client: Client, me: Headers) -> None:
    tasks = [
        await create_task(client, me, title=f"t{i}", labels=["bulk", f"own {i}"]) for i in range(30)
    ]
    response = await client.patch(url("bulk"), json={"name": "mass"}, headers=me)
    assert response.status_code == 200, response.text
    entries = await history(client, me, action_type="UPDATED")
    assert sorted(e["task_id"] for e in entries) == sorted(t["id"] for t in tasks)
    assert len({e["timestamp"] for e in entries}) == 1
    for i, task in enumerate(tasks):
        now = await get_task(client, me, task["id"])
        assert (now["labels"], now["version"]) == (["mass", f"own {i}"], 2)


# --- concurrency ------------------------------------------------------------------------


async def test_parallel_renames_leave_every_task_with_exactly_one_new_name(
    client: Client, me: Headers
) -> None:
    tasks = [
        await create_task(client, me, title=f"t{i}", labels=["old", "keep"]) for i in range(12)
    ]
    new_names = [f"new {n}" for n in range(6)]
    responses = await asyncio.gather(
        *(client.patch(url("old"), json={"name": name}, headers=me) for name in new_names)
    )
    statuses = sorted(r.status_code for r in responses)
    assert 200 in statuses
    assert set(statuses) <= {200, 404}, [r.text for r in responses]
    finals = [await get_task(client, me, t["id"]) for t in tasks]
    labels = {tuple(t["labels"]) for t in finals}
    assert len(labels) == 1  # every task ended with the same one new name
    (final,) = labels
    assert len(final) == 2
    assert final[0] in new_names
    assert final[1] == "keep"
    winners = statuses.count(200)
    for task in finals:
        entries = await history_of(client, me, task["id"])
        updates = [e for e in entries if e["action_type"] == "UPDATED"]
        assert task["version"] == 1 + len(updates)
        assert len(updates) == winners
        assert updates[0]["changes"]["labels"]["to"] == list(final)


async def test_parallel_renames_of_different_labels_on_the_same_tasks_both_apply(
    client: Client, me: Headers
) -> None:
    tasks = [await create_task(client, me, title=f"t{i}", labels=["a", "b"]) for i in range(10)]
    responses = await asyncio.gather(
        client.patch(url("a"), json={"name": "A2"}, headers=me),
        client.patch(url("b"), json={"name": "B2"}, headers=me),
        client.delete(url("nothing"), headers=me),
    )
    assert [r.status_code for r in responses] == [200, 200, 404]
    for task in tasks:
        now = await get_task(client, me, task["id"])
        assert now["labels"] == ["A2", "B2"]
        assert now["version"] == 3
        assert len(await history_of(client, me, task["id"])) == 3


async def test_a_blank_new_name_is_422_on_name(client: Client, me: Headers) -> None:
    await create_task(client, me, labels=["work"])
    response = await client.patch(url("work"), json={"name": " \u2003 "}, headers=me)
    body = assert_error(response, 422, "VALIDATION_ERROR")
    assert [d["field"] for d in body["error"]["details"]] == ["name"]
