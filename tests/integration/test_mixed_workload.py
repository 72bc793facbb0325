"""Two server processes on one database, many clients, a minute of mixed traffic; then the
invariants must hold: versions match history, history matches changes, nobody's history
points at someone else's task, counters match rows, and not one 5xx."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.servers import running_servers

PASSWORD = "correct horse battery staple"
DURATION = float(os.environ.get("TASKAPP_MIXED_WORKLOAD_SECONDS", "60"))
CLIENTS = 16
USERS = 6


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    environment = {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "mixed-workload-secret-" + "w" * 40,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG": "false",
    }
    with running_servers(2, tmp_path, environment) as urls:
        yield urls


async def _sign_in(client: httpx.AsyncClient, url: str, n: int) -> dict[str, str]:
    email = f"mixed-{n}-{random.randrange(10**9)}@example.com"
    await client.post(f"{url}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    login = await client.post(
        f"{url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}


async def _worker(
    client: httpx.AsyncClient, urls: list[str], users: list[dict[str, str]], statuses: Counter[int]
) -> None:
    rng = random.Random()
    deadline = time.monotonic() + DURATION
    while time.monotonic() < deadline:
        url, headers = rng.choice(urls), rng.choice(users)
        listing = await client.get(f"{url}/api/v1/tasks", params={"limit": 50}, headers=headers)
        statuses[listing.status_code] += 1
        ids = [t["id"] for t in listing.json()["data"]["items"]] if listing.is_success else []
        action = rng.random()
        if action < 0.3 or not ids:
            response = await client.post(
                f"{url}/api/v1/tasks", json={"title": f"t{rng.random()}"}, headers=headers
            )
        elif action < 0.5:
            response = await client.patch(
                f"{url}/api/v1/tasks/{rng.choice(ids)}",
                json={"title": f"u{rng.random()}", "description": rng.choice([None, "d"])},
                headers=headers,
            )
        elif action < 0.8:
            response = await client.patch(
                f"{url}/api/v1/tasks/{rng.choice(ids)}/toggle", headers=headers
            )
        elif action < 0.93:
            response = await client.delete(f"{url}/api/v1/tasks/{rng.choice(ids)}", headers=headers)
        else:
            response = await client.get(
                f"{url}/api/v1/tasks/export",
                params={"format": rng.choice(["csv", "json"])},
                headers=headers,
            )
        statuses[response.status_code] += 1


async def _scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(sa.text(sql))).scalar_one())


@pytest.mark.slow
async def test_a_minute_of_mixed_traffic_keeps_every_invariant(
    servers: list[str], engine: AsyncEngine
) -> None:
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(timeout=30) as client:
        users = [await _sign_in(client, servers[n % 2], n) for n in range(USERS)]
        await asyncio.gather(*(_worker(client, servers, users, statuses) for _ in range(CLIENTS)))

    print(f"mixed workload: {sum(statuses.values())} requests, statuses {dict(statuses)}")
    assert sum(statuses.values()) > 500, statuses
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 201, 404}, statuses  # 404: a task another client deleted

    # Every live task: one CREATED entry, and one more entry per version step.
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM tasks t
        WHERE t.version - 1 <> (SELECT count(*) FROM task_history h
                                WHERE h.task_id = t.id AND h.action_type <> 'CREATED')
           OR 1 <> (SELECT count(*) FROM task_history h
                    WHERE h.task_id = t.id AND h.action_type = 'CREATED')
    """,
        )
        == 0
    )
    # Every deleted task has exactly one DELETED entry, and no row.
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM (
            SELECT task_id FROM task_history GROUP BY task_id
            HAVING (count(*) FILTER (WHERE action_type = 'DELETED') = 1)
                <> NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.id = task_id)
                OR count(*) FILTER (WHERE action_type = 'DELETED') > 1
        ) broken
    """,
        )
        == 0
    )
    # No entry of one user points at another user's task.
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM task_history h JOIN tasks t ON t.id = h.task_id
        WHERE h.user_id <> t.user_id
    """,
        )
        == 0
    )
    # The counters kept by triggers agree with the rows.
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM history_counts c
        WHERE c.total <> (SELECT count(*) FROM task_history h WHERE h.user_id = c.user_id)
    """,
        )
        == 0
    )
    assert (
        await _scalar(
            engine,
            """
        SELECT count(*) FROM (
            SELECT user_id, sum(open) AS open, sum(completed) AS completed
            FROM task_counts GROUP BY user_id
        ) c
        WHERE c.open <> (SELECT count(*) FROM tasks t
                         WHERE t.user_id = c.user_id AND NOT t.is_completed)
           OR c.completed <> (SELECT count(*) FROM tasks t
                              WHERE t.user_id = c.user_id AND t.is_completed)
    """,
        )
        == 0
    )
