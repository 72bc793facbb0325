"""`taskapp serve` behind PgBouncer in transaction mode, configured as the README says:

    DATABASE_URL=<through PgBouncer>  DATABASE_DIRECT_URL=<the server itself>
    DB_POOLER=transaction

Eight users run the main flows at once (register, login, refresh, create with an
Idempotency-Key, list, patch with If-Match, delete, history, sync, export, API tokens)
over three server connections; revocations and live events ride on the direct connection.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from taskapp.adapters.postgres.database import driver_dsn
from tests.api.conftest import PASSWORD
from tests.api.test_events import opened
from tests.pooler.conftest import SERVER_CONNECTIONS
from tests.support.servers import running_servers

pytestmark = pytest.mark.slow

USERS = 8
TASKS = "/api/v1/tasks"


def pooled_environment(pooled_url: str, direct_url: str, data_dir: Path) -> dict[str, str]:
    """The README's settings for PgBouncer in transaction mode."""
    return {
        "DATABASE_URL": pooled_url,
        "DATABASE_DIRECT_URL": direct_url,
        "DB_POOLER": "transaction",
        "DB_POOL_SIZE": "10",
        "TASKAPP_DATA_DIR": str(data_dir),
        "JWT_SECRET": "pgbouncer-secret-" + "p" * 40,
        "RATE_LIMIT_PER_ADDRESS": "1000",
        "EVENTS_HEARTBEAT_SECONDS": "0.3",
        "LOG_LEVEL": "WARNING",
    }


@dataclass(frozen=True)
class Server:
    url: str
    started: datetime  # before any of its connections


@pytest.fixture(scope="module")
def server(
    pooled_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("pooled")
    environment = pooled_environment(pooled_url, database_url, data_dir)
    started = datetime.now(UTC)
    # Start-up migrates (already at head) through the direct URL, under the advisory lock.
    with running_servers(1, data_dir, environment, log=data_dir / "server.log") as urls:
        yield Server(urls[0], started)


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()["data"]


async def main_flows(client: httpx.AsyncClient) -> None:
    """One user's session, every step checked; run by several users at once."""
    email = f"pooled-{uuid.uuid4().hex[:10]}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    _ok(await client.post("/api/v1/auth/register", json=credentials), 201)
    tokens = _ok(await client.post("/api/v1/auth/login", json=credentials))
    refreshed = _ok(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    )
    me = {"Authorization": f"Bearer {refreshed['access_token']}"}

    once = {**me, "Idempotency-Key": "create-1"}
    first = await client.post(TASKS, json={"title": "Pooled"}, headers=once)
    task = _ok(first, 201)
    replay = await client.post(TASKS, json={"title": "Pooled"}, headers=once)
    assert _ok(replay, 201)["id"] == task["id"]
    assert replay.headers["idempotent-replayed"] == "true"
    doomed = _ok(await client.post(TASKS, json={"title": "Doomed"}, headers=me), 201)

    listed = _ok(await client.get(TASKS, headers=me))
    assert {item["title"] for item in listed["items"]} == {"Pooled", "Doomed"}

    path = f"{TASKS}/{task['id']}"
    patched = await client.patch(
        path, json={"title": "Pooled, renamed"}, headers={**me, "If-Match": '"1"'}
    )
    assert _ok(patched)["title"] == "Pooled, renamed"
    assert patched.headers["etag"] == '"2"'
    stale = await client.patch(path, json={"title": "Lost"}, headers={**me, "If-Match": '"1"'})
    assert stale.status_code == 412, stale.text
    deleted = await client.delete(f"{TASKS}/{doomed['id']}", headers={**me, "If-Match": '"1"'})
    assert deleted.status_code in {200, 204}, deleted.text

    history = _ok(await client.get("/api/v1/history", headers=me, params={"limit": 100}))
    assert sorted(entry["action_type"] for entry in history["items"]) == [
        "CREATED",
        "CREATED",
        "DELETED",
        "UPDATED",
    ]
    synced = _ok(await client.get("/api/v1/sync", headers=me))
    assert [item["title"] for item in synced["tasks"]] == ["Pooled, renamed"]
    assert synced["deleted_task_ids"] == [doomed["id"]]
    exported = await client.get(f"{TASKS}/export", params={"format": "csv"}, headers=me)
    assert exported.status_code == 200, exported.text
    assert "Pooled, renamed" in exported.text

    # An API token: created, used, revoked (the revocation notice comes back over the
    # direct connection's LISTEN before the answer), then refused.
    token = _ok(
        await client.post(
            "/api/v1/auth/tokens", json={"name": "script", "scopes": ["tasks:read"]}, headers=me
        ),
        201,
    )
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert (await client.get(TASKS, headers=bearer)).status_code == 200
    revoked = await client.delete(f"/api/v1/auth/tokens/{token['id']}", headers=me)
    assert revoked.status_code in {200, 204}, revoked.text
    assert (await client.get(TASKS, headers=bearer)).status_code == 401


async def test_main_flows_run_concurrently_through_pgbouncer(
    client: httpx.AsyncClient, server: Server, database_url: str
) -> None:
    await asyncio.gather(*(main_flows(client) for _ in range(USERS)))
    # And they went through PgBouncer: PostgreSQL saw no more request connections since
    # this server started than PgBouncer's pool holds (the app's own pool has 10). (Its
    # LISTEN connection, on the direct URL, is `taskapp-listener`.)
    connection = await asyncpg.connect(driver_dsn(database_url))
    try:
        backends = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'taskapp' AND backend_start >= $1",
            server.started,
        )
    finally:
        await connection.close()
    assert 1 <= backends <= SERVER_CONNECTIONS


async def test_live_events_use_the_direct_connection(client: httpx.AsyncClient) -> None:
    email = f"events-{uuid.uuid4().hex[:10]}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    _ok(await client.post("/api/v1/auth/register", json=credentials), 201)
    tokens = _ok(await client.post("/api/v1/auth/login", json=credentials))
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with opened(client, me) as stream:
        assert (await stream.next()).is_heartbeat
        created = _ok(await client.post(TASKS, json={"title": "Live"}, headers=me), 201)
        event = await stream.change()
        assert event.event == "task.created"
        assert event.data["id"] == created["id"]


async def test_readiness_answers_through_pgbouncer(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
