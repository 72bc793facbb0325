"""Small helpers shared by the API tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api.conftest import PASSWORD

Client = httpx.AsyncClient


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


async def register(client: Client, email: str | None = None, password: str = PASSWORD) -> str:
    email = email or unique_email()
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password}
    )
    assert response.status_code == 201, response.text
    return email


async def login(client: Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()["data"]
    return tokens


async def signed_in(client: Client) -> dict[str, str]:
    """Register a fresh user and return the Authorization header for them."""
    email = await register(client)
    tokens = await login(client, email)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["data"] is None
    assert body["popup"] is None
    assert body["error"]["code"] == code
    return body
