"""GET /tasks/export and GET /downloads: files, hostile content, tracking, isolation."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.exceptions import LitestarException
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.helpers import Client, assert_error, signed_in

EXPORT = "/api/v1/tasks/export"
HOSTILE = [
    'He said "hi", then left',
    "comma, separated, title",
    "line one\nline two",
    '=HYPERLINK("http://evil", "click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "Ünïcödé — 日本語 ✓",
]


async def create(
    client: Client, me: dict[str, str], title: str, description: str | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/tasks", json={"title": title, "description": description}, headers=me
    )
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


async def test_csv_export_is_a_safe_rfc4180_attachment(client: Client, me: dict[str, str]) -> None:
    for title in HOSTILE:
        await create(client, me, title, description="=cmd|' /C calc'!A0")
    response = await client.get(EXPORT, params={"format": "csv"}, headers=me)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert response.headers["content-disposition"] == f'attachment; filename="tasks-{today}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert rows[0] == [
        "id",
        "title",
        "description",
        "is_completed",
        "completed_at",
        "created_at",
        "updated_at",
        "version",
        "list_id",
        "list_name",
        "parent_id",
        "position",
        "due_date",
        "due_at",
        "priority",
        "labels",
    ]
    titles = {row[1] for row in rows[1:]}
    assert len(rows) == 1 + len(HOSTILE)
    assert 'He said "hi", then left' in titles
    assert "line one\nline two" in titles
    assert "Ünïcödé — 日本語 ✓" in titles
    assert '\'=HYPERLINK("http://evil", "click")' in titles
    assert {"'+1+2", "'-2+3", "'@SUM(A1:A2)"} <= titles
    for row in rows[1:]:
        assert not row[1].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert row[2] == "'=cmd|' /C calc'!A0"


async def test_csv_neutralizes_tab_and_carriage_return_starts(
    client: Client, me: dict[str, str]
) -> None:
    await create(client, me, "tab", description="\t=1+1")
    await create(client, me, "cr", description="\r=1+1")
    response = await client.get(EXPORT, params={"format": "csv"}, headers=me)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert sorted(row[2] for row in rows[1:]) == ["'\t=1+1", "'\r=1+1"]
    assert b"\r\n" in response.content


async def test_json_export_has_the_api_fields(client: Client, me: dict[str, str]) -> None:
    made = [await create(client, me, title) for title in HOSTILE[:3]]
    response = await client.get(EXPORT, params={"format": "json"}, headers=me)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].endswith('.json"')
    exported = json.loads(response.content)
    assert sorted(t["id"] for t in exported) == sorted(t["id"] for t in made)
    assert {t["title"] for t in exported} == set(HOSTILE[:3])
    assert set(exported[0]) == {*made[0], "list_name"}


async def test_empty_exports(client: Client, me: dict[str, str]) -> None:
    csv_response = await client.get(EXPORT, params={"format": "csv"}, headers=me)
    assert (
        csv_response.content.decode().strip()
        == "id,title,description,is_completed,completed_at,created_at,updated_at,version,"
        "list_id,list_name,parent_id,position,due_date,due_at,priority,labels"
    )
    json_response = await client.get(EXPORT, params={"format": "json"}, headers=me)
    assert json.loads(json_response.content) == []
    downloads = (await client.get("/api/v1/downloads", headers=me)).json()["data"]
    assert [d["item_count"] for d in downloads["items"]] == [0, 0]


async def test_status_filter(client: Client, me: dict[str, str]) -> None:
    done = await create(client, me, "done")
    await create(client, me, "open")
    await client.patch(f"/api/v1/tasks/{done['id']}/complete", headers=me)
    for status, expected in (
        ("completed", ["done"]),
        ("open", ["open"]),
        ("all", ["open", "done"]),
    ):
        response = await client.get(EXPORT, params={"format": "json", "status": status}, headers=me)
        assert [t["title"] for t in json.loads(response.content)] == expected


async def test_each_export_is_tracked_newest_first(client: Client, me: dict[str, str]) -> None:
    await create(client, me, "a")
    await create(client, me, "b")
    await client.get(EXPORT, params={"format": "csv"}, headers=me)
    await client.get(EXPORT, params={"format": "json", "status": "completed"}, headers=me)
    response = await client.get("/api/v1/downloads", headers=me)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["total"] == 2
    assert [(d["format"], d["item_count"]) for d in data["items"]] == [("json", 0), ("csv", 2)]
    assert set(data["items"][0]) == {"id", "format", "item_count", "created_at"}


async def test_exports_and_downloads_are_private(client: Client, me: dict[str, str]) -> None:
    await create(client, me, "mine")
    await client.get(EXPORT, params={"format": "csv"}, headers=me)
    other = await signed_in(client)
    theirs = await client.get(EXPORT, params={"format": "json"}, headers=other)
    assert json.loads(theirs.content) == []
    downloads = (await client.get("/api/v1/downloads", headers=other)).json()["data"]
    assert [d["item_count"] for d in downloads["items"]] == [0]


@pytest.mark.parametrize(
    "params", [{"format": "xml"}, {"format": "json", "status": "done"}, {"format": "csv", "x": "1"}]
)
async def test_bad_export_parameters_are_422(
    client: Client, me: dict[str, str], params: dict[str, str]
) -> None:
    assert_error(await client.get(EXPORT, params=params, headers=me), 422, "VALIDATION_ERROR")


async def test_export_requires_a_token(client: Client) -> None:
    assert_error(await client.get(EXPORT, params={"format": "csv"}), 401, "UNAUTHORIZED")
    assert_error(await client.get("/api/v1/downloads"), 401, "UNAUTHORIZED")


async def test_thousands_of_tasks_export_completely(
    client: Client, me: dict[str, str], engine: AsyncEngine
) -> None:
    user_id = (await client.get("/api/v1/auth/me", headers=me)).json()["data"]["id"]
    count = 3200  # several batches of 500
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO tasks"
                " (id, user_id, title, is_completed, created_at, updated_at, version)"
                " SELECT gen_random_uuid(), :user, 'bulk ' || n, false,"
                " now() - n * interval '1 second', now(), 1 FROM generate_series(1, :count) AS n"
            ),
            {"user": user_id, "count": count},
        )
    csv_response = await client.get(EXPORT, params={"format": "csv"}, headers=me)
    rows = list(csv.reader(io.StringIO(csv_response.content.decode(), newline="")))
    assert len(rows) == count + 1
    assert len({row[0] for row in rows[1:]}) == count
    json_response = await client.get(EXPORT, params={"format": "json"}, headers=me)
    assert len(json.loads(json_response.content)) == count
    downloads = (await client.get("/api/v1/downloads", headers=me)).json()["data"]["items"]
    assert [d["item_count"] for d in downloads] == [count, count]


async def test_an_abandoned_download_is_not_recorded(
    client: Client, me: dict[str, str], app: Any
) -> None:
    """The client goes away mid-file: sending the first rows fails, nothing is recorded."""
    for n in range(3):
        await create(client, me, f"t{n}")
    sent: list[dict[str, Any]] = []
    body_chunks = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal body_chunks
        if message["type"] == "http.response.body" and message.get("body"):
            body_chunks += 1
            if body_chunks == 2:  # the header row went out; the rows do not
                raise OSError("client disconnected")
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": EXPORT,
        "raw_path": EXPORT.encode(),
        "query_string": b"format=csv",
        "root_path": "",
        "headers": [(b"authorization", me["Authorization"].encode()), (b"host", b"testserver")],
        "client": ("203.0.113.9", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    # The server sees the failed send (Litestar wraps it: the response had started).
    with pytest.raises((OSError, LitestarException)) as raised:
        await app(scope, receive, send)
    assert "client disconnected" in repr(raised.value) + repr(raised.value.__cause__)
    assert sent[0]["status"] == 200
    downloads = (await client.get("/api/v1/downloads", headers=me)).json()["data"]
    assert downloads["total"] == 0
