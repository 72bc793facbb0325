"""A property of /sync: whatever a user does, in any order, a client that applies pages in
order, from any point it ever reached and with any page size, ends holding exactly the
server's tasks and lists.

Hypothesis draws sequences of operations (create, edit, complete, reopen, move and delete
tasks; create, rename, move and delete lists) interleaved with syncs. A sync resumes from a
random earlier checkpoint (the state and cursor a client held after some page it applied)
with a small random page limit, catches up fully, and compares with the database."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.helpers import Client, signed_in
from tests.api.test_sync import Replica, sync

pytestmark = pytest.mark.slow

EXAMPLES = 40
TASKS = "/api/v1/tasks"
LISTS = "/api/v1/lists"

index = st.integers(min_value=0, max_value=50)
maybe_index = st.none() | index
word = st.text(alphabet="abcdefgh ", min_size=1, max_size=8).map(str.strip).filter(bool)

ARGUMENTS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "create_task": st.tuples(maybe_index, maybe_index, word),  # in a list, under a parent
    "edit_task": st.tuples(index, word),
    "complete_task": st.tuples(index),
    "reopen_task": st.tuples(index),
    "move_task": st.tuples(index, maybe_index, maybe_index),  # to a list, under a parent
    "delete_task": st.tuples(index),
    "create_list": st.tuples(word),
    "rename_list": st.tuples(index, word),
    "move_list": st.tuples(index, maybe_index),  # after another
    "delete_list": st.tuples(index, st.booleans()),  # with its tasks
    "sync": st.tuples(index, st.integers(min_value=1, max_value=4)),  # from, page limit
}
# Creates more often than the rest: enough objects to act on and to page through.
KINDS = [*ARGUMENTS, "create_task", "create_task", "create_task", "create_list"]
operations = st.sampled_from(KINDS).flatmap(
    lambda kind: ARGUMENTS[kind].map(lambda args: (kind, *args))
)


@dataclass
class Checkpoint:
    """What a client held after applying some page: its objects and its cursor."""

    tasks: dict[str, dict[str, Any]]
    lists: dict[str, dict[str, Any]]
    cursor: str | None


def _pick(ids: list[str], k: int | None) -> str | None:
    return None if k is None or not ids else ids[k % len(ids)]


class Account:
    """The user's side: the ids ever made (a pick may name a deleted one: a 404 then)."""

    def __init__(self, client: Client, user: dict[str, str]) -> None:
        self.client, self.user = client, user
        self.task_ids: list[str] = []
        self.list_ids: list[str] = []
        self.names = 0

    async def apply(self, op: tuple[Any, ...]) -> None:
        client, user, kind = self.client, self.user, op[0]
        creates = kind.startswith("create_")
        task = None if creates or not kind.endswith("_task") else _pick(self.task_ids, op[1])
        found = None if creates or not kind.endswith("_list") else _pick(self.list_ids, op[1])
        if kind == "create_task":
            body: dict[str, Any] = {"title": op[3]}
            if (parent := _pick(self.task_ids, op[2])) is not None:
                body["parent_id"] = parent
            elif (in_list := _pick(self.list_ids, op[1])) is not None:
                body["list_id"] = in_list
            response = await client.post(TASKS, json=body, headers=user)
            if response.status_code == 201:
                self.task_ids.append(response.json()["data"]["id"])
        elif kind == "edit_task":
            response = await client.patch(f"{TASKS}/{task}", json={"title": op[2]}, headers=user)
        elif kind == "complete_task":
            response = await client.patch(f"{TASKS}/{task}/complete", headers=user)
        elif kind == "reopen_task":
            response = await client.patch(f"{TASKS}/{task}/incomplete", headers=user)
        elif kind == "move_task":
            move: dict[str, Any] = {"list_id": _pick(self.list_ids, op[2])}
            if (parent := _pick(self.task_ids, op[3])) is not None:
                move = {"parent_id": parent}
            response = await client.post(f"{TASKS}/{task}/move", json=move, headers=user)
        elif kind == "delete_task":
            response = await client.delete(f"{TASKS}/{task}", headers=user)
        elif kind == "create_list":
            self.names += 1
            body = {"name": f"{op[1]} {self.names}"}
            response = await client.post(LISTS, json=body, headers=user)
            if response.status_code == 201:
                self.list_ids.append(response.json()["data"]["id"])
        elif kind == "rename_list":
            self.names += 1
            body = {"name": f"{op[2]} {self.names}"}
            response = await client.patch(f"{LISTS}/{found}", json=body, headers=user)
        elif kind == "move_list":
            body = {"after_id": _pick(self.list_ids, op[2])} if op[2] is not None else {}
            response = await client.post(f"{LISTS}/{found}/move", json=body, headers=user)
        elif kind == "delete_list":
            params = {"with_tasks": "true"} if op[2] else {}
            response = await client.delete(f"{LISTS}/{found}", params=params, headers=user)
        else:
            raise AssertionError(kind)
        # Refusals (gone, too deep, a list not empty, a move into itself) change nothing.
        assert response.status_code in (200, 201, 404, 409, 422), response.text
        if not creates and task is None and found is None:  # nothing made yet to act on
            assert response.status_code in (404, 405, 422), response.text


async def server_state(engine: AsyncEngine, user_id: str) -> tuple[Any, Any]:
    async with engine.connect() as connection:
        tasks = await connection.execute(
            sa.text(
                "SELECT id, version, title, is_completed, list_id, parent_id, position "
                "FROM tasks WHERE user_id = :u"
            ),
            {"u": uuid.UUID(user_id)},
        )
        lists = await connection.execute(
            sa.text("SELECT id, version, name, position FROM lists WHERE user_id = :u"),
            {"u": uuid.UUID(user_id)},
        )
        return (
            {
                str(r[0]): (r[1], r[2], r[3], r[4] and str(r[4]), r[5] and str(r[5]), r[6])
                for r in tasks
            },
            {str(r[0]): (r[1], r[2], r[3]) for r in lists},
        )


def held(replica: Replica) -> tuple[Any, Any]:
    return (
        {
            k: (
                t["version"],
                t["title"],
                t["is_completed"],
                t["list_id"],
                t["parent_id"],
                t["position"],
            )
            for k, t in replica.tasks.items()
        },
        {k: (x["version"], x["name"], x["position"]) for k, x in replica.lists.items()},
    )


async def catch_up(
    client: Client, user: dict[str, str], start: Checkpoint, limit: int
) -> tuple[Replica, list[Checkpoint]]:
    """Resume from `start` with pages of `limit`: the replica, and a checkpoint per page."""
    replica = Replica()
    replica.tasks, replica.lists = copy.deepcopy(start.tasks), copy.deepcopy(start.lists)
    replica.cursor = start.cursor
    reached = []
    while True:
        page = await sync(client, user, replica.cursor, limit)
        replica.apply(page)
        reached.append(
            Checkpoint(copy.deepcopy(replica.tasks), copy.deepcopy(replica.lists), replica.cursor)
        )
        if not page["has_more"]:
            return replica, reached


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=5, max_size=40))
async def test_pages_applied_from_any_earlier_point_give_the_servers_state(
    client: Client, engine: AsyncEngine, ops: list[tuple[Any, ...]]
) -> None:
    user = await signed_in(client)
    user_id = (await client.get("/api/v1/auth/me", headers=user)).json()["data"]["id"]
    account = Account(client, user)
    checkpoints = [Checkpoint({}, {}, None)]  # a new client: nothing, no cursor
    for op in [*ops, ("sync", 0, 3)]:
        if op[0] != "sync":
            await account.apply(op)
            continue
        start = checkpoints[op[1] % len(checkpoints)]
        replica, reached = await catch_up(client, user, start, op[2])
        checkpoints += reached
        assert held(replica) == await server_state(engine, user_id), op
