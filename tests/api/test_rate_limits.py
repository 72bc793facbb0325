"""Register and login rate limits: 429 with Retry-After, shared by every server process."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import PASSWORD, make_settings, serve_with
from tests.api.helpers import assert_error, unique_email
from tests.support.servers import running_servers


@pytest.fixture
async def limited(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        database_url,
        tmp_path,
        rate_limit_per_address=4,
        rate_limit_per_email=2,
        rate_limit_window_seconds=3600,
    )
    async with serve_with(settings) as client:
        yield client


async def test_login_is_limited_per_email(limited: httpx.AsyncClient) -> None:
    email = unique_email()
    for _ in range(2):
        response = await limited.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert_error(response, 401, "INVALID_CREDENTIALS")
    response = await limited.post(
        "/api/v1/auth/login", json={"email": email.upper(), "password": PASSWORD}
    )
    assert_error(response, 429, "RATE_LIMITED")
    assert 1 <= int(response.headers["retry-after"]) <= 3600


async def test_register_is_limited_per_address(limited: httpx.AsyncClient) -> None:
    statuses = []
    for _ in range(5):
        response = await limited.post(
            "/api/v1/auth/register", json={"email": unique_email(), "password": PASSWORD}
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 201, 429]


async def test_disabled_limits_never_answer_429(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        rate_limit_enabled=False,
        rate_limit_per_address=1,
        rate_limit_per_email=1,
    )
    async with serve_with(settings) as client:
        email = unique_email()
        for _ in range(3):
            response = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            assert response.status_code == 401


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two real server processes on one database, each with the same small limit."""
    environment = {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "shared-secret-" + "y" * 40,
        "RATE_LIMIT_PER_EMAIL": "3",
        # Fixed windows: a long one, so the six attempts cannot straddle a window boundary.
        "RATE_LIMIT_WINDOW_SECONDS": "3600",
        "RATE_LIMIT_PER_ADDRESS": "1000",
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG": "false",
    }
    with running_servers(2, tmp_path, environment) as urls:
        yield urls


@pytest.mark.slow
async def test_two_server_processes_share_one_limit(two_servers: list[str]) -> None:
    email = unique_email()
    statuses = []
    async with httpx.AsyncClient(timeout=10) as client:
        for attempt in range(6):
            url = two_servers[attempt % 2]
            response = await client.post(
                f"{url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            statuses.append(response.status_code)
    # Three attempts in all, whichever process took them; then 429 on both processes.
    assert statuses == [401, 401, 401, 429, 429, 429]


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis at 127.0.0.1:6379")
async def test_redis_store_enforces_the_same_limits(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        rate_limit_per_email=2,
        rate_limit_window_seconds=3600,
        redis_url="redis://127.0.0.1:6379/15",
    )
    async with serve_with(settings) as client:
        email = unique_email()
        statuses = [
            (
                await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 429]
