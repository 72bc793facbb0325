"""Errors a person can act on: every field rule answers in words, the same in
`error.message` and `error.details`, never with a regex; plus the CORS refusal log and
the export's content types (issue 20)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.api.helpers import Client, assert_error

# (method, path, body or query, field, message): one per rule of each field.
BODY_RULES = [
    (
        "/api/v1/auth/register",
        {"email": "ada", "password": "x" * 12},
        "email",
        "must be a valid email address",
    ),
    (
        "/api/v1/auth/register",
        {"email": "a@example.com", "password": "short"},
        "password",
        "must have at least 12 characters",
    ),
    (
        "/api/v1/auth/register",
        {"email": "a@example.com", "password": "x" * 12, "x": 1},
        "x",
        "unknown field `x`; accepted: email, password, display_name",
    ),
    ("/api/v1/tasks", {"title": "   "}, "title", "must not be blank"),
    ("/api/v1/tasks", {"title": ""}, "title", "must not be empty"),
    ("/api/v1/tasks", {"title": "x" * 256}, "title", "must be at most 255 characters"),
    ("/api/v1/tasks", {"title": 5}, "title", "must be a string"),
    ("/api/v1/tasks", {}, "title", "is required"),
    (
        "/api/v1/tasks",
        {"title": "a", "priority": "urgent"},
        "priority",
        "must be one of: none, low, medium, high",
    ),
    ("/api/v1/tasks", {"title": "a", "list_id": "nope"}, "list_id", "must be a UUID"),
    (
        "/api/v1/tasks",
        {"title": "a", "due_date": "tomorrow"},
        "due_date",
        "must be a date as YYYY-MM-DD, e.g. 2026-11-27",
    ),
    (
        "/api/v1/tasks",
        {"title": "a", "due_at": "2026-11-23T09:00:00"},
        "due_at",
        "must be a date-time with its offset, e.g. 2026-11-23T09:00:00+01:00",
    ),
    (
        "/api/v1/tasks",
        {"title": "a", "description": "a\u0000b"},
        "description",
        "must not contain NUL characters",
    ),
    (
        "/api/v1/lists",
        {"name": "Home", "color": "blue"},
        "color",
        "must be a colour as #RRGGBB, e.g. #3B82F6",
    ),
    ("/api/v1/reviews", {"rating": 9}, "rating", "must be at most 5"),
]
QUERY_RULES = [
    ("/api/v1/tasks?status=done", "status", "must be one of: all, open, completed"),
    ("/api/v1/tasks?search=milk", "search", "unknown parameter `search`; accepted: status, q,"),
    ("/api/v1/tasks?limit=0", "limit", "must be at least 1"),
    ("/api/v1/tasks?limit=many", "limit", "must be a whole number in decimal digits"),
    ("/api/v1/tasks?sort=sideways", "sort", "must be one of: default, due,"),
    ("/api/v1/tasks?list_id=home", "list_id", "must be a list's UUID or inbox"),
    ("/api/v1/tasks?tz=localtime", "tz", "must be an IANA time zone, e.g. Europe/Berlin"),
    ("/api/v1/stats/weekly?tz=Factory", "tz", "must be an IANA time zone, e.g. Europe/Berlin"),
    ("/api/v1/stats/weekly?tz=posixrules", "tz", "must be an IANA time zone, e.g. Europe/Berlin"),
    ("/api/v1/tasks/export?format=xls", "format", "must be one of: csv, json, ics"),
    (
        "/api/v1/auth/me?verbose=1",
        "verbose",
        "unknown parameter `verbose`; this operation takes no query parameters",
    ),
]


def _detail(body: dict[str, Any], field: str) -> str:
    details = body["error"]["details"]
    found = [d["message"] for d in details if d["field"] == field]
    assert found, details
    message: str = found[0]
    assert "regex" not in message
    assert "^(" not in message
    assert message in body["error"]["message"] or body["error"]["message"].startswith(
        f"{field} {message}"
    ), body["error"]
    return message


@pytest.mark.parametrize(
    ("path", "body", "field", "message"), BODY_RULES, ids=lambda v: str(v)[:40]
)
async def test_body_rules_answer_in_words(
    client: Client, me: dict[str, str], path: str, body: dict[str, Any], field: str, message: str
) -> None:
    headers = {} if path.endswith("register") else me
    response = await client.post(path, json=body, headers=headers)
    found = _detail(assert_error(response, 422, "VALIDATION_ERROR"), field)
    assert found.startswith(message)


@pytest.mark.parametrize(("path", "field", "message"), QUERY_RULES, ids=lambda v: str(v)[:40])
async def test_query_rules_answer_in_words(
    client: Client, me: dict[str, str], path: str, field: str, message: str
) -> None:
    response = await client.get(path, headers=me)
    found = _detail(assert_error(response, 422, "VALIDATION_ERROR"), field)
    assert found.startswith(message)


async def test_csv_export_names_its_charset_once(client: Client, me: dict[str, str]) -> None:
    for format, media_type in (
        ("csv", "text/csv; charset=utf-8"),
        ("json", "application/json; charset=utf-8"),
        ("ics", "text/calendar; charset=utf-8"),
    ):
        response = await client.get(f"/api/v1/tasks/export?format={format}", headers=me)
        assert response.headers["content-type"] == media_type


async def test_a_refused_origin_is_logged_by_name(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="taskapp.cors"):
        await client.get("/health/live", headers={"Origin": "http://evil.example:4000"})
        await client.get("/health/live", headers={"Origin": "http://localhost:5173"})
    refused = [r.getMessage() for r in caplog.records if r.name == "taskapp.cors"]
    assert len(refused) == 1
    assert "http://evil.example:4000" in refused[0]
