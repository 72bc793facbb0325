"""The round trip as a property (issue 16): for generated accounts, export → import into
an empty account → export again gives the same content (ids, timestamps and versions
aside), in both formats.

Small in `make test`; a larger run: TASKAPP_ROUNDTRIP_EXAMPLES=200 pytest this file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.api.helpers import Client, signed_in
from tests.api.test_import_export import content, export, import_file

EXAMPLES = int(os.environ.get("TASKAPP_ROUNDTRIP_EXAMPLES", "6"))
ZONES = [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("Pacific/Auckland"), ZoneInfo("America/St_Johns")]
# Characters that stress the formats: CSV quoting and formulas, the labels separator and
# its escape, iCalendar/JSON escapes, non-ASCII.
TRICKY = "=+-@'\";,\\\n\tx Ü日✓"
text = st.text(alphabet=st.sampled_from(TRICKY) | st.characters(codec="utf-8"), max_size=12)


def visible(value: str) -> bool:
    return bool(value.strip()) and "\x00" not in value


@dataclass(frozen=True)
class NewTask:
    title: str
    description: str | None
    list_index: int | None
    parent: int | None  # an earlier task's index
    due: dict[str, str]
    priority: str
    labels: list[str]
    completed: bool


@st.composite
def accounts(draw: st.DrawFn) -> tuple[list[str], list[NewTask]]:
    lists = draw(
        st.lists(text.filter(visible), max_size=3, unique_by=lambda n: n.strip().casefold())
    )
    tasks: list[NewTask] = []
    depth: list[int] = []
    for _ in range(draw(st.integers(0, 8))):
        parents = [i for i, d in enumerate(depth) if d < 4]
        parent = draw(st.none() | st.sampled_from(parents)) if parents else None
        list_index = (
            tasks[parent].list_index
            if parent is not None
            else draw(st.none() | st.integers(0, len(lists) - 1))
            if lists
            else None
        )
        kind = draw(st.sampled_from(["none", "date", "at"]))
        due: dict[str, str] = {}
        if kind == "date":
            due["due_date"] = draw(st.dates(date(2000, 1, 1), date(2100, 12, 31))).isoformat()
        elif kind == "at":
            moment = draw(
                st.datetimes(
                    datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.sampled_from(ZONES)
                )
            )
            due["due_at"] = moment.isoformat()
        tasks.append(
            NewTask(
                title=draw(text.filter(visible)),
                description=draw(st.none() | text),
                list_index=list_index,
                parent=parent,
                due=due,
                priority=draw(st.sampled_from(["none", "low", "medium", "high"])),
                labels=draw(st.lists(text.filter(visible), max_size=3)),
                completed=draw(st.booleans()),
            )
        )
        depth.append(1 if parent is None else depth[parent] + 1)
    return lists, tasks


async def build(client: Client, me: dict[str, str], lists: list[str], tasks: list[NewTask]) -> None:
    list_ids = []
    for name in lists:
        response = await client.post("/api/v1/lists", json={"name": name}, headers=me)
        assume(response.status_code == 201)  # a name the rules refuse: not this property
        list_ids.append(response.json()["data"]["id"])
    task_ids: list[str] = []
    for task in tasks:
        body: dict[str, Any] = {
            "title": task.title,
            "description": task.description,
            "priority": task.priority,
            "labels": task.labels,
            **task.due,
        }
        if task.parent is not None:
            body["parent_id"] = task_ids[task.parent]
        elif task.list_index is not None:
            body["list_id"] = list_ids[task.list_index]
        response = await client.post("/api/v1/tasks", json=body, headers=me)
        assume(response.status_code == 201)
        task_ids.append(response.json()["data"]["id"])
        if task.completed:
            done = await client.patch(f"/api/v1/tasks/{task_ids[-1]}/complete", headers=me)
            assert done.status_code == 200, done.text


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize(("fmt", "media_type"), [("csv", "text/csv"), ("json", "application/json")])
@given(account=accounts())
async def test_export_import_export_keeps_the_content(
    client: Client, fmt: str, media_type: str, account: tuple[list[str], list[NewTask]]
) -> None:
    source = await signed_in(client)
    await build(client, source, *account)
    before = json.loads(await export(client, source, "json"))
    assume(before)  # an empty account has no file to import (422, tested elsewhere)
    target = await signed_in(client)
    response = await import_file(client, target, await export(client, source, fmt), media_type)
    assert response.status_code == 201, response.text
    after = json.loads(await export(client, target, "json"))
    assert content(after) == content(before)
    names = {i["list_name"] for i in before} - {None}
    assert response.json()["data"] == {"created": len(before), "lists_created": len(names)}
