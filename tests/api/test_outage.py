"""The database goes away and comes back: fast 503s meanwhile, recovery without restart.

The outage is made by a TCP proxy this test owns, never by touching the shared server.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from taskapp.config import Settings
from tests.api.conftest import serve_with
from tests.api.helpers import assert_error, signed_in
from tests.support.tcp_proxy import TcpProxy, database_proxy


@pytest.fixture
async def proxied(database_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    async with database_proxy(database_url) as found:
        yield found


@pytest.fixture
def proxy(proxied: tuple[TcpProxy, str]) -> TcpProxy:
    return proxied[0]


@pytest.fixture
async def client(
    settings: Settings, proxied: tuple[TcpProxy, str]
) -> AsyncIterator[httpx.AsyncClient]:
    outage_settings = dataclasses.replace(
        settings,
        database_url=proxied[1],
        db_connect_timeout_seconds=1,
        db_pool_timeout_seconds=1,
        db_statement_timeout_seconds=2,
    )
    async with serve_with(outage_settings) as client:
        yield client


async def test_outage_gives_fast_503s_and_the_service_recovers(
    client: httpx.AsyncClient, proxy: TcpProxy
) -> None:
    me = await signed_in(client)
    created = await client.post("/api/v1/tasks", json={"title": "before"}, headers=me)
    assert created.status_code == 201
    one = f"/api/v1/tasks/{created.json()['data']['id']}"

    proxy.cut()
    for _ in range(3):
        started = time.monotonic()
        response = await client.get("/api/v1/tasks", headers=me)
        assert time.monotonic() - started < 5
        assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert int(response.headers["retry-after"]) >= 1
    write = await client.post("/api/v1/tasks", json={"title": "during"}, headers=me)
    assert_error(write, 503, "SERVICE_UNAVAILABLE")
    assert_error(await client.get(one, headers=me), 503, "SERVICE_UNAVAILABLE")
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert (await client.get("/health/live")).status_code == 200

    proxy.restore()
    deadline = time.monotonic() + 10
    while True:
        response = await client.get("/api/v1/tasks", headers=me)
        if response.status_code == 200 or time.monotonic() > deadline:
            break
    assert response.status_code == 200, response.text
    assert [t["title"] for t in response.json()["data"]["items"]] == ["before"]
    assert (await client.get("/health/ready")).status_code == 200
    assert (await client.get(one, headers=me)).status_code == 200


async def test_a_partitioned_database_fails_requests_within_the_timeouts(
    client: httpx.AsyncClient, proxy: TcpProxy
) -> None:
    """No RST, no answer: readiness answers 503 within its own 2 s, requests within the
    statement timeout (2 s here, plus the driver's 1 s backstop); then recovery."""
    me = await signed_in(client)
    proxy.stall()
    started = time.monotonic()
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert time.monotonic() - started < 3.5
    started = time.monotonic()
    assert_error(await client.get("/api/v1/tasks", headers=me), 503, "SERVICE_UNAVAILABLE")
    assert time.monotonic() - started < 5
    proxy.restore()
    deadline = time.monotonic() + 10
    while (await client.get("/health/ready")).status_code != 200:
        assert time.monotonic() < deadline
    deadline = time.monotonic() + 10
    while (await client.get("/api/v1/tasks", headers=me)).status_code != 200:
        assert time.monotonic() < deadline
