"""Regressions from review: hostile input that once produced a 500, and auth races."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.conftest import PASSWORD
from tests.api.helpers import Client, assert_error, login, register, signed_in, unique_email


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/register", b'{"email":"\xff@x.io","password":"correct horse battery"}'),
        ("/api/v1/auth/login", b'{"email":"a@x.io","password":"\xed\xa0\x80"}'),
    ],
)
async def test_invalid_utf8_inside_json_is_400(client: Client, path: str, body: bytes) -> None:
    response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "BAD_REQUEST")


async def test_invalid_utf8_in_a_task_is_400(client: Client) -> None:
    me = await signed_in(client)
    response = await client.post(
        "/api/v1/tasks",
        content=b'{"title":"\xed\xa0\x80"}',
        headers={**me, "Content-Type": "application/json"},
    )
    assert_error(response, 400, "BAD_REQUEST")


async def test_a_huge_login_email_is_refused_cleanly(client: Client) -> None:
    email = "\U0001f600" * 1000 + "@x.io"
    response = await client.post(
        "/api/v1/auth/login", json={"email": email[:1024], "password": PASSWORD}
    )
    assert_error(response, 401, "INVALID_CREDENTIALS")
    form = await client.post(
        "/api/v1/auth/login", data={"username": "a" * 6000, "password": PASSWORD}
    )
    assert_error(form, 422, "VALIDATION_ERROR")


async def test_empty_login_form_is_422(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "value", ['"²"'.encode("latin-1"), b'"\xc2\xb9"', b'"1e3"', b'"99999999999999999999"', b'"-1"']
)
async def test_odd_if_match_values_are_412(client: Client, value: bytes) -> None:
    me = await signed_in(client)
    task = (await client.post("/api/v1/tasks", json={"title": "t"}, headers=me)).json()["data"]
    response = await client.patch(
        f"/api/v1/tasks/{task['id']}/complete",
        headers={**me, "If-Match": value},  # type: ignore[dict-item]
    )
    assert_error(response, 412, "VERSION_CONFLICT")


async def test_unicode_capitals_in_an_email_still_log_in(client: Client) -> None:
    email = f"İnfo-{unique_email()}"
    await register(client, email)
    await login(client, email)


async def test_405_names_the_allowed_methods(client: Client) -> None:
    response = await client.delete("/api/v1/auth/me")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize("name", ["user_id", "tasks", "request", "if_match"])
async def test_dependency_names_are_not_query_parameters(client: Client, name: str) -> None:
    me = await signed_in(client)
    response = await client.get("/api/v1/tasks", params={name: "x"}, headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_a_refresh_racing_a_password_change_leaves_no_live_token(client: Client) -> None:
    for _ in range(5):
        email = await register(client)
        tokens = await login(client, email)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        refreshed, changed = await asyncio.gather(
            client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
            client.post(
                "/api/v1/auth/password",
                json={"current_password": PASSWORD, "new_password": "another long password"},
                headers=headers,
            ),
        )
        assert changed.status_code == 200
        if refreshed.status_code == 200:
            survivor = refreshed.json()["data"]["refresh_token"]
            again = await client.post("/api/v1/auth/refresh", json={"refresh_token": survivor})
            assert again.status_code == 401
