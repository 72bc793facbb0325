"""/api/v1/auth/tokens and using an API token, through the real app on real PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from taskapp.config import Settings
from taskapp.domain.model.api_tokens import API_TOKENS_PER_USER, Scope
from taskapp.entrypoints.logs import configure_logging
from tests.api.conftest import make_settings, serve_with
from tests.api.helpers import Client, assert_error, signed_in
from tests.unit.fakes import FixedClock

TOKENS = "/api/v1/auth/tokens"
_TOKEN = re.compile(r"^tat_[A-Za-z0-9_-]{43}$")


async def create(
    client: Client, session: dict[str, str], **body: Any
) -> tuple[dict[str, str], dict[str, Any]]:
    body = {"name": "ci", "scopes": ["tasks:read"], **body}
    response = await client.post(TOKENS, json=body, headers=session)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return {"Authorization": f"Bearer {data['token']}"}, data


async def test_create_shows_the_token_once_and_list_never_does(client: Client) -> None:
    session = await signed_in(client)
    response = await client.post(
        TOKENS,
        json={
            "name": " deploy bot ",
            "scopes": ["tasks:write", "tasks:read"],
            "expires_in_days": 30,
        },
        headers=session,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["popup"] == "TOKEN_CREATED"
    data = body["data"]
    assert set(data) == {"id", "name", "scopes", "token", "created_at", "expires_at"}
    assert _TOKEN.match(data["token"])
    assert data["name"] == "deploy bot"
    assert data["scopes"] == ["tasks:read", "tasks:write"]
    created = datetime.fromisoformat(data["created_at"])
    assert datetime.fromisoformat(data["expires_at"]) - created == timedelta(days=30)

    listed = await client.get(TOKENS, headers=session)
    assert listed.status_code == 200
    items = listed.json()["data"]["items"]
    assert items == [
        {
            "id": data["id"],
            "name": "deploy bot",
            "scopes": ["tasks:read", "tasks:write"],
            "created_at": data["created_at"],
            "expires_at": data["expires_at"],
            "last_used_at": None,
        }
    ]
    assert data["token"] not in listed.text


async def test_a_token_acts_for_its_owner_within_its_scopes(client: Client) -> None:
    session = await signed_in(client)
    token, _ = await create(client, session, scopes=["tasks:read", "tasks:write"], name="rw")
    made = await client.post("/api/v1/tasks", json={"title": "by a script"}, headers=token)
    assert made.status_code == 201
    mine = await client.get("/api/v1/tasks", headers=session)
    assert [t["title"] for t in mine.json()["data"]["items"]] == ["by a script"]
    me = await client.get("/api/v1/auth/me", headers=token)  # any token may ask who it is
    assert me.status_code == 200

    history = await client.get("/api/v1/history", headers=token)
    body = assert_error(history, 403, "INSUFFICIENT_SCOPE")
    assert "history:read" in body["error"]["message"]
    assert history.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="history:read"'
    )


async def test_api_tokens_never_manage_tokens_change_the_password_refresh_or_log_out(
    client: Client,
) -> None:
    session = await signed_in(client)
    token, data = await create(client, session, scopes=[scope.value for scope in Scope])
    attempts = [
        ("POST", TOKENS, {"name": "x", "scopes": ["tasks:read"]}),
        ("GET", TOKENS, None),
        ("DELETE", f"{TOKENS}/{data['id']}", None),
        ("POST", "/api/v1/auth/password", {"current_password": "a" * 12, "new_password": "b" * 12}),
        ("POST", "/api/v1/auth/refresh", {"refresh_token": "whatever"}),
        ("POST", "/api/v1/auth/logout", {"refresh_token": "whatever"}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=token)
        assert_error(response, 403, "FORBIDDEN")
    still = await client.get("/api/v1/tasks", headers=token)
    assert still.status_code == 200


async def test_revoking_is_immediate_and_answers_like_an_unknown_token(client: Client) -> None:
    session = await signed_in(client)
    token, data = await create(client, session)
    assert (await client.get("/api/v1/tasks", headers=token)).status_code == 200  # cached now
    revoked = await client.delete(f"{TOKENS}/{data['id']}", headers=session)
    assert revoked.status_code == 200
    assert revoked.json()["popup"] == "TOKEN_REVOKED"
    assert revoked.json()["data"] == {"id": data["id"]}

    after = await client.get("/api/v1/tasks", headers=token)
    unknown = await client.get("/api/v1/tasks", headers={"Authorization": "Bearer tat_" + "A" * 43})
    assert_error(after, 401, "UNAUTHORIZED")
    assert after.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert after.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    assert (await client.get(TOKENS, headers=session)).json()["data"]["items"] == []
    again = await client.delete(f"{TOKENS}/{data['id']}", headers=session)
    assert_error(again, 404, "NOT_FOUND")


async def test_at_most_fifty_tokens_per_user(client: Client) -> None:
    session = await signed_in(client)
    ids = [
        (await create(client, session, name=f"t{n}"))[1]["id"] for n in range(API_TOKENS_PER_USER)
    ]
    over = await client.post(
        TOKENS, json={"name": "51st", "scopes": ["tasks:read"]}, headers=session
    )
    assert_error(over, 409, "LIMIT_REACHED")
    other = await signed_in(client)
    await create(client, other)  # the limit is per user
    await client.delete(f"{TOKENS}/{ids[0]}", headers=session)
    await create(client, session, name="room again")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "scopes": ["tasks:read"]}, "name"),
        ({"name": "   ", "scopes": ["tasks:read"]}, "name"),
        ({"name": "x" * 101, "scopes": ["tasks:read"]}, "name"),
        ({"name": "ci", "scopes": []}, "scopes"),
        ({"name": "ci", "scopes": ["admin"]}, "scopes"),
        ({"name": "ci"}, "scopes"),
        ({"name": "ci", "scopes": ["tasks:read"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ci", "scopes": ["tasks:read"], "expires_in_days": 3651}, "expires_in_days"),
        ({"name": "ci", "scopes": ["tasks:read"], "expires_in_days": 1.5}, "expires_in_days"),
        ({"name": "ci", "scopes": ["tasks:read"], "expires_in_days": "7"}, "expires_in_days"),
        ({"name": "ci", "scopes": ["tasks:read"], "token": "tat_mine"}, None),
    ],
)
async def test_invalid_requests_are_422(
    client: Client, body: dict[str, Any], field: str | None
) -> None:
    session = await signed_in(client)
    response = await client.post(TOKENS, json=body, headers=session)
    error = assert_error(response, 422, "VALIDATION_ERROR")["error"]
    if field is not None:
        assert field in str(error.get("details")) + error["message"]


async def test_a_malformed_token_id_is_422(client: Client) -> None:
    session = await signed_in(client)
    response = await client.delete(f"{TOKENS}/not-a-uuid", headers=session)
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_expired_tokens_are_401_and_use_is_recorded_about_once_a_minute(
    settings: Settings,
) -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with serve_with(settings, clock=clock) as client:
        session = await signed_in(client)
        token, data = await create(client, session, expires_in_days=1)
        assert (await client.get("/api/v1/tasks", headers=token)).status_code == 200

        async def last_used() -> str | None:
            items = (await client.get(TOKENS, headers=session)).json()["data"]["items"]
            value: str | None = items[0]["last_used_at"]
            return value

        first = clock.now()
        for _ in range(3):
            await _settle()
            assert await last_used() == first.isoformat().replace("+00:00", "Z")
            clock.advance(seconds=20)
            assert (await client.get("/api/v1/tasks", headers=token)).status_code == 200
        await _settle()
        assert await last_used() == (first + timedelta(seconds=60)).isoformat().replace(
            "+00:00", "Z"
        )

        clock.current = datetime.fromisoformat(data["expires_at"])
        session = await signed_in(client)  # the old session's JWT has expired too
        expired = await client.get("/api/v1/tasks", headers=token)
        assert_error(expired, 401, "UNAUTHORIZED")
        assert expired.headers["www-authenticate"].startswith("Bearer")


async def _settle() -> None:
    await asyncio.sleep(0.15)  # `last_used_at` is written in the background


async def test_the_access_log_names_the_token_id_and_no_line_holds_the_token(
    database_url: str, tmp_path: Path
) -> None:
    stream = io.StringIO()
    handler = configure_logging("INFO", json_lines=True, stream=stream)
    try:
        settings = make_settings(database_url, tmp_path, access_log=True)
        async with serve_with(settings) as client:
            session = await signed_in(client)
            token, data = await create(client, session)
            secret = token["Authorization"].removeprefix("Bearer ")
            await client.get("/api/v1/tasks", headers=token)
            await client.get(f"/api/v1/tasks?token={secret}", headers=token)
            logging.getLogger("taskapp.test").warning("a careless line with %s in it", secret)
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert secret not in text
    assert secret[4:20] not in text
    assert f'"token_id": "{data["id"]}"' in text
    assert "[REDACTED-API-TOKEN]" in text


async def test_the_openapi_document_shows_both_schemes_and_each_scope(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerToken"]["bearerFormat"] == "JWT"
    assert schemes["ApiToken"]["scheme"] == "bearer"
    get_task = document["paths"]["/api/v1/tasks/{task_id}"]["get"]
    assert get_task["security"] == [{"BearerToken": []}, {"ApiToken": ["tasks:read"]}]
    assert "`tasks:read`" in get_task["description"]
    assert "403" in get_task["responses"]
    create_token = document["paths"]["/api/v1/auth/tokens"]["post"]
    assert create_token["security"] == [{"BearerToken": []}]
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert "security" not in login
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/v1/") and path not in (
                "/api/v1/auth/login",
                "/api/v1/auth/register",
                "/api/v1/auth/refresh",
            ):
                assert operation.get("security"), f"{method.upper()} {path}"
