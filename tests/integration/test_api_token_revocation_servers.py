"""Revocation on every instance at once: two `taskapp serve` processes (two workers each) on
one database. A token revoked through one is refused by the other on the very next request,
although each had it cached."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import running_servers

PASSWORD = "correct horse battery staple"
ROUNDS = 5

pytestmark = pytest.mark.slow


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    environment = {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "revocation-secret-" + "r" * 40,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG": "false",
        "WEB_CONCURRENCY": "2",
    }
    with running_servers(2, tmp_path, environment) as urls:
        yield urls


async def test_a_revoked_token_is_refused_by_every_instance_at_once(servers: list[str]) -> None:
    one, other = servers
    # A new connection per request, so requests reach every worker, not the first one only.
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=10, limits=fresh) as client:
        email = f"revoke-{random.randrange(10**9)}@example.com"
        await client.post(
            f"{one}/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        login = await client.post(
            f"{one}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        session = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}

        for _ in range(ROUNDS):
            created = await client.post(
                f"{one}/api/v1/auth/tokens",
                json={"name": "script", "scopes": ["tasks:read"]},
                headers=session,
            )
            data = created.json()["data"]
            token = {"Authorization": f"Bearer {data['token']}"}
            # Every worker of both servers has seen (and cached) the token, and its listener
            # has had time to connect (its first connect empties the cache once).
            for _ in range(3):
                for url in servers:
                    for _ in range(8):
                        answer = await client.get(f"{url}/api/v1/tasks", headers=token)
                        assert answer.status_code == 200, answer.text
                await asyncio.sleep(0.3)

            revoked = await client.delete(f"{one}/api/v1/auth/tokens/{data['id']}", headers=session)
            assert revoked.status_code == 200
            # The very next requests, on the other instance and this one: refused.
            answers = [
                (await client.get(f"{url}/api/v1/tasks", headers=token)).status_code
                for url in (other, one, other, one, other, other, other, other)
            ]
            assert answers == [401] * len(answers)
