"""The database goes away and comes back: fast 503s meanwhile, recovery without restart.

The outage is made by a TCP proxy this test owns, never by touching the shared server.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from taskapp.config import Settings
from tests.api.conftest import serve_with
from tests.api.helpers import assert_error, signed_in
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(database_url)
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        proxy = TcpProxy(None, 0, Path(socket_dir) / f".s.PGSQL.{url.port or 5432}")
    else:
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def client(
    settings: Settings, database_url: str, proxy: TcpProxy
) -> AsyncIterator[httpx.AsyncClient]:
    url = make_url(database_url)
    through_proxy = url.set(host="127.0.0.1", port=proxy.port, query={})
    outage_settings = dataclasses.replace(
        settings,
        database_url=through_proxy.render_as_string(hide_password=False),
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
