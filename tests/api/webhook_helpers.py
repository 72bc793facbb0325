"""What the webhook delivery tests share: the servers' settings and small API calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

WEBHOOKS = "/api/v1/webhooks"
TIMEOUT = 1.0  # the servers' WEBHOOK_TIMEOUT_SECONDS; a claim lasts this + 5 s
SOON = 10.0


def delivery_environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(data_dir),
        "JWT_SECRET": "webhooks-secret-" + "w" * 40,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_POLL_SECONDS": "0.1",
        "WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
        "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        **extra,
    }


async def hook(
    client: httpx.AsyncClient, user: dict[str, str], url: str, events: list[str] | None = None
) -> dict[str, Any]:
    made = await client.post(WEBHOOKS, json={"url": url, "events": events or ["*"]}, headers=user)
    assert made.status_code == 201, made.text
    data: dict[str, Any] = made.json()["data"]
    return data


async def deliveries(client: httpx.AsyncClient, user: dict[str, str], hook_id: str) -> Any:
    found = await client.get(f"{WEBHOOKS}/{hook_id}/deliveries?limit=100", headers=user)
    return found.json()["data"]["items"]
