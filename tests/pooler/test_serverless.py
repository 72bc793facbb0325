"""The serverless entry (`api/index.py`, Vercel's Python runtime) through PgBouncer.

Each cold start is a fresh process that imports the entry module; no lifespan events are
sent; every invocation runs on an event loop of its own (and one sends several requests at
once). The settings are the README's for Vercel with Neon's pooled connection string:
DATABASE_URL through the pooler, DB_POOLER=transaction, a small pool, no direct URL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("serverless_invocations.py")


def cold_start(environment: dict[str, str], cwd: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={**os.environ, **environment},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome


def test_cold_starts_serve_every_invocation_without_lifespan(
    pooled_url: str, tmp_path: Path
) -> None:
    environment = {
        "DATABASE_URL": pooled_url,
        "DB_POOLER": "transaction",
        "DB_POOL_SIZE": "2",
        "ENVIRONMENT": "production",
        "JWT_SECRET": "serverless-secret-" + "s" * 40,
        "RATE_LIMIT_PER_ADDRESS": "1000",
        "TASKAPP_DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    for name in ("DATABASE_DIRECT_URL", "MIGRATE_ON_START"):
        environment[name] = ""  # not needed, not used

    first = cold_start(environment, tmp_path, "first")
    assert first["ready"] == [200, {"status": "ok"}]
    assert first["burst"] == [200, 200, 200, 200, 200, 200, 201]
    assert first["patched_title"] == "Warm"
    assert first["replayed"] == "true"
    status, error, retry_after = first["events"]
    assert status == 503
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert "/api/v1/sync" in error["message"]
    assert int(retry_after) >= 60
    assert first["token"] == [200, 204, 401] or first["token"] == [200, 200, 401]

    second = cold_start(environment, tmp_path, "second", first["email"], first["task_id"])
    assert second == {"title": "Warm", "synced": ["Warm"], "history": ["UPDATED", "CREATED"]}
