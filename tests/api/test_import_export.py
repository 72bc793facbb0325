"""Issue 16: every v1.1 field in exports, iCalendar, and POST /tasks/import (all or nothing,
lists by name, subtasks and order kept, row-level errors, limits, hostile files)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import icalendar
import pytest
import vobject

from tests.api.helpers import Client, assert_error, signed_in

EXPORT = "/api/v1/tasks/export"
IMPORT = "/api/v1/tasks/import"


async def post(client: Client, me: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers=me)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def seed(client: Client, me: dict[str, str]) -> dict[str, Any]:
    """A list, a task with every field, its subtask, and a completed Inbox task."""
    work = await post(client, me, "/api/v1/lists", {"name": "Work; stuff"})
    parent = await post(
        client,
        me,
        "/api/v1/tasks",
        {
            "title": "=SUM(A1) parent, with comma",
            "description": "line one\nline two; ✓",
            "list_id": work["id"],
            "due_at": "2026-11-20T09:30:00+01:00",
            "priority": "high",
            "labels": ["a;b", "back\\slash", "@home"],
        },
    )
    child = await post(
        client,
        me,
        "/api/v1/tasks",
        {"title": "child", "parent_id": parent["id"], "due_date": "2026-12-01", "priority": "low"},
    )
    done = await post(client, me, "/api/v1/tasks", {"title": "done", "priority": "medium"})
    response = await client.patch(f"/api/v1/tasks/{done['id']}/complete", headers=me)
    assert response.status_code == 200, response.text
    return {"list": work, "parent": parent, "child": child, "done": response.json()["data"]}


async def export(client: Client, me: dict[str, str], fmt: str) -> bytes:
    response = await client.get(EXPORT, params={"format": fmt}, headers=me)
    assert response.status_code == 200, response.text
    return response.content


def csv_records(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


async def test_csv_export_carries_every_v11_field(client: Client, me: dict[str, str]) -> None:
    seeded = await seed(client, me)
    rows = {r["id"]: r for r in csv_records(await export(client, me, "csv"))}
    parent = rows[seeded["parent"]["id"]]
    assert parent["title"] == "'=SUM(A1) parent, with comma"
    assert parent["list_id"] == seeded["list"]["id"]
    assert parent["list_name"] == "Work; stuff"
    assert parent["labels"] == "a\\;b;back\\\\slash;@home"
    assert parent["due_at"] == "2026-11-20T08:30:00Z"
    assert parent["priority"] == "high"
    assert parent["position"] == seeded["parent"]["position"]
    child = rows[seeded["child"]["id"]]
    assert child["parent_id"] == seeded["parent"]["id"]
    assert child["list_name"] == "Work; stuff"
    assert child["due_date"] == "2026-12-01"
    assert rows[seeded["done"]["id"]]["list_name"] == ""


async def test_json_export_names_the_list(client: Client, me: dict[str, str]) -> None:
    seeded = await seed(client, me)
    items = {i["id"]: i for i in json.loads(await export(client, me, "json"))}
    assert items[seeded["child"]["id"]]["list_name"] == "Work; stuff"
    assert items[seeded["child"]["id"]]["parent_id"] == seeded["parent"]["id"]
    assert items[seeded["done"]["id"]]["list_name"] is None
    assert items[seeded["parent"]["id"]]["labels"] == ["a;b", "back\\slash", "@home"]


async def test_ics_export_parses_with_two_libraries(client: Client, me: dict[str, str]) -> None:
    seeded = await seed(client, me)
    response = await client.get(EXPORT, params={"format": "ics"}, headers=me)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"].endswith('.ics"')
    body = response.content
    assert body.count(b"\n") == body.count(b"\r\n")  # CRLF only
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # folded
    parent, child, done = seeded["parent"], seeded["child"], seeded["done"]

    calendar = icalendar.Calendar.from_ical(body)
    todos = {str(t["UID"]): t for t in calendar.walk("VTODO")}
    assert set(todos) == {parent["id"], child["id"], done["id"]}
    p = todos[parent["id"]]
    assert str(p["SUMMARY"]) == parent["title"]
    assert str(p["DESCRIPTION"]) == parent["description"]
    assert p.decoded("DUE") == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert int(p["PRIORITY"]) == 1
    assert list(p["CATEGORIES"].cats) == ["a;b", "back\\slash", "@home"]
    assert str(p["STATUS"]) == "NEEDS-ACTION"
    assert "COMPLETED" not in p
    c = todos[child["id"]]
    assert c.decoded("DUE") == date(2026, 12, 1)
    assert c["DUE"].params.get("VALUE") == "DATE"
    assert str(c["RELATED-TO"]) == parent["id"]
    assert c["RELATED-TO"].params["RELTYPE"] == "PARENT"
    assert int(c["PRIORITY"]) == 9
    d = todos[done["id"]]
    assert str(d["STATUS"]) == "COMPLETED"
    completed_at = datetime.fromisoformat(done["completed_at"]).replace(microsecond=0)
    assert d.decoded("COMPLETED") == completed_at
    assert int(d["PRIORITY"]) == 5

    # An independent parser (vobject) reads the same values.
    parsed = vobject.readOne(body.decode("utf-8"))
    by_uid = {t.uid.value: t for t in parsed.vtodo_list}
    vp = by_uid[parent["id"]]
    assert vp.summary.value == parent["title"]
    assert vp.description.value == parent["description"]
    assert vp.due.value == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert vp.priority.value == "1"
    assert vp.categories.value == ["a;b", "back\\slash", "@home"]
    assert vp.status.value == "NEEDS-ACTION"
    vc = by_uid[child["id"]]
    assert vc.due.value == date(2026, 12, 1)
    assert vc.contents["related-to"][0].value == parent["id"]
    vd = by_uid[done["id"]]
    assert vd.status.value == "COMPLETED"
    assert vd.completed.value == completed_at
    downloads = (await client.get("/api/v1/downloads", headers=me)).json()["data"]["items"]
    assert downloads[0]["format"] == "ics"
    assert downloads[0]["item_count"] == 3


def content(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a round trip keeps: everything but ids, timestamps and versions (parents by
    their own content, lists by name)."""
    by_id = {i["id"]: i for i in items}

    def key(item: dict[str, Any]) -> tuple[Any, ...]:
        parent = by_id.get(item["parent_id"]) if item["parent_id"] else None
        return (
            item["title"],
            item["description"],
            item["is_completed"],
            item["list_name"],
            item["position"],
            item["due_date"],
            item["due_at"],
            item["priority"],
            tuple(item["labels"]),
            None if parent is None else key(parent),
        )

    return sorted((key(i) for i in items), key=repr)


async def import_file(client: Client, me: dict[str, str], body: bytes, media_type: str) -> Any:
    return await client.post(IMPORT, content=body, headers={**me, "Content-Type": media_type})


@pytest.mark.parametrize(("fmt", "media_type"), [("csv", "text/csv"), ("json", "application/json")])
async def test_export_imports_back_unchanged(
    client: Client, me: dict[str, str], fmt: str, media_type: str
) -> None:
    await seed(client, me)
    before = json.loads(await export(client, me, "json"))
    file = await export(client, me, fmt)
    other = await signed_in(client)
    response = await import_file(client, other, file, media_type)
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {"created": 3, "lists_created": 1}
    assert response.json()["popup"] == "TASKS_IMPORTED"
    after = json.loads(await export(client, other, "json"))
    assert content(after) == content(before)
    done = next(i for i in after if i["title"] == "done")
    assert done["completed_at"] == next(i for i in before if i["title"] == "done")["completed_at"]
    history = (await client.get("/api/v1/history", headers=other)).json()["data"]
    assert history["total"] == 3
    assert {e["action_type"] for e in history["items"]} == {"CREATED"}
    # Again into the same account: the list is matched by name, not created twice.
    response = await import_file(client, other, file, media_type)
    assert response.json()["data"] == {"created": 3, "lists_created": 0}
    lists = (await client.get("/api/v1/lists", headers=other)).json()["data"]
    assert lists["total"] == 1


async def test_a_bad_row_imports_nothing_and_names_row_and_field(
    client: Client, me: dict[str, str]
) -> None:
    body = (
        b"title,due_date,priority,parent_id,id\r\n"
        b"fine,2026-01-01,low,,\r\n"
        b"bad date,2026-13-01,low,,\r\n"
        b"bad priority,,urgent,,\r\n"
    )
    response = await import_file(client, me, body, "text/csv")
    error = assert_error(response, 422, "VALIDATION_ERROR")
    fields = {d["field"] for d in error["error"]["details"]}
    assert fields == {"rows[2].due_date", "rows[3].priority"}
    body = (
        b"title,parent_id,id\r\n"
        b" ,,00000000-0000-0000-0000-000000000009\r\n"
        b"orphan,00000000-0000-0000-0000-000000000001,\r\n"
    )
    error = assert_error(await import_file(client, me, body, "text/csv"), 422, "VALIDATION_ERROR")
    assert {d["field"] for d in error["error"]["details"]} == {"rows[1].title", "rows[2].parent_id"}
    listed = (await client.get("/api/v1/tasks", headers=me)).json()["data"]
    assert listed["total"] == 0


async def test_json_type_errors_name_row_and_field(client: Client, me: dict[str, str]) -> None:
    body = json.dumps([{"title": "ok"}, {"title": "x", "priority": 3}]).encode()
    error = assert_error(
        await import_file(client, me, body, "application/json"), 422, "VALIDATION_ERROR"
    )
    assert error["error"]["details"][0]["field"] == "rows[2].priority"
    for bad in (b"{}", b"[1]", b"not json", b"[]"):
        response = await import_file(client, me, bad, "application/json")
        assert_error(response, 422, "VALIDATION_ERROR")


async def test_cycles_depth_duplicates_and_lists(client: Client, me: dict[str, str]) -> None:
    ids = [f"00000000-0000-0000-0000-00000000000{n}" for n in range(1, 7)]
    cycle = [
        {"id": ids[0], "title": "a", "parent_id": ids[1]},
        {"id": ids[1], "title": "b", "parent_id": ids[0]},
    ]
    deep = [{"id": ids[0], "title": "1"}] + [
        {"id": ids[n], "title": str(n + 1), "parent_id": ids[n - 1]} for n in range(1, 5)
    ]
    twice = [{"id": ids[0], "title": "a"}, {"id": ids[0], "title": "b"}]
    other_list = [
        {"id": ids[0], "title": "p", "list_name": "A"},
        {"id": ids[1], "title": "c", "list_name": "B", "parent_id": ids[0]},
    ]
    unknown_list = [{"title": "x", "list_id": ids[5]}]
    cases = [
        (cycle, "rows[1].parent_id"),
        (deep, "rows[5].parent_id"),
        (twice, "rows[2].id"),
        (other_list, "rows[2].list_name"),
        (unknown_list, "rows[1].list_id"),
    ]
    for items, field in cases:
        response = await import_file(client, me, json.dumps(items).encode(), "application/json")
        error = assert_error(response, 422, "VALIDATION_ERROR")
        assert field in {d["field"] for d in error["error"]["details"]}, (field, error)
    assert (await client.get("/api/v1/lists", headers=me)).json()["data"]["total"] == 0


async def test_hostile_csv(client: Client, me: dict[str, str]) -> None:
    # A BOM, formula cells written neutralized, Windows line ends: all fine.
    body = "\ufefftitle,labels\r\n'=1+2,'@x;y\r\n".encode()
    assert (await import_file(client, me, body, "text/csv")).status_code == 201
    tasks = (await client.get("/api/v1/tasks", headers=me)).json()["data"]["items"]
    assert tasks[0]["title"] == "=1+2"
    assert tasks[0]["labels"] == ["@x", "y"]
    # UTF-16 with its BOM is read; other bytes that are not UTF-8 are refused.
    body = "title\r\nsixteen\r\n".encode("utf-16")
    assert (await import_file(client, me, body, "text/csv")).status_code == 201
    for bad, field in [
        (b"title\r\n\xff\xfe\xfa\r\n", "file"),
        (b"title\r\nnul\x00here\r\n", "rows[1].title"),
        (b'title\r\n"unterminated\r\n', "file"),
        (b"name\r\nx\r\n", "file"),
        (b"title,title\r\nx,y\r\n", "file"),
        (b"", "file"),
    ]:
        error = assert_error(
            await import_file(client, me, bad, "text/csv"), 422, "VALIDATION_ERROR"
        )
        assert error["error"]["details"][0]["field"] == field, (bad, error)


async def test_limits_and_media_types(client: Client, me: dict[str, str]) -> None:
    response = await import_file(client, me, b"title\r\nx\r\n", "text/plain")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    big = b"title\r\n" + b"x" * (5 * 1024 * 1024)
    assert_error(await import_file(client, me, big, "text/csv"), 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> Any:  # no Content-Length: refused while reading
        for _ in range(6):
            yield b"x" * (1024 * 1024)

    response = await client.post(
        IMPORT, content=chunks(), headers={**me, "Content-Type": "text/csv"}
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    many = b"title\r\n" + b"t\r\n" * 10_001
    error = assert_error(await import_file(client, me, many, "text/csv"), 422, "VALIDATION_ERROR")
    assert error["error"]["details"][0]["field"] == "file"
    assert (await client.get("/api/v1/tasks", headers=me)).json()["data"]["total"] == 0


async def test_ten_thousand_tasks_import(client: Client, me: dict[str, str]) -> None:
    body = b"title,list_name\r\n" + b"".join(b"t%d,L%d\r\n" % (n, n % 3) for n in range(10_000))
    response = await import_file(client, me, body, "text/csv")
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {"created": 10_000, "lists_created": 3}
    listed = await client.get(
        "/api/v1/tasks", params={"sort": "manual", "limit": 3, "list_id": "inbox"}, headers=me
    )
    assert listed.json()["data"]["total"] == 0
