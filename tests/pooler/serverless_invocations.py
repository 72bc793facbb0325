"""Run as a script, in a fresh process: one serverless cold start and its invocations.

It loads `api/index.py` as Vercel's Python runtime does (a fresh import of the module and
its top-level `app`), sends no lifespan events, and runs each invocation on an event loop
of its own (`asyncio.run`), as a runtime that bridges one request at a time does; one
invocation sends several requests at once on one loop, as a runtime with concurrent
requests per instance does. It prints what it saw as one JSON line.

    python serverless_invocations.py first           -> {"email": ..., "task_id": ...}
    python serverless_invocations.py second EMAIL ID  -> {"title": ..., ...}
"""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def cold_start() -> Any:
    return runpy.run_path(str(ROOT / "api" / "index.py"))["app"]


def invoke(app: Any, *requests: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
    """One invocation: a new event loop, the requests sent at once, the loop closed."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="https://taskapp.test") as c:
            return list(
                await asyncio.gather(
                    *(c.request(method, url, **options) for method, url, options in requests)
                )
            )

    return asyncio.run(run())


def data(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()["data"]


def first(app: Any) -> dict[str, Any]:
    email = f"serverless-{uuid.uuid4().hex[:10]}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    (ready,) = invoke(app, ("GET", "/health/ready", {}))
    data_ready = ready.json()
    (registered,) = invoke(app, ("POST", "/api/v1/auth/register", {"json": credentials}))
    data(registered, 201)
    (logged_in,) = invoke(app, ("POST", "/api/v1/auth/login", {"json": credentials}))
    me = {"Authorization": f"Bearer {data(logged_in)['access_token']}"}
    create = {"json": {"title": "Cold"}, "headers": {**me, "Idempotency-Key": "k1"}}
    (created,) = invoke(app, ("POST", "/api/v1/tasks", create))
    task = data(created, 201)
    path = f"/api/v1/tasks/{task['id']}"
    patch = {"json": {"title": "Warm"}, "headers": {**me, "If-Match": '"1"'}}
    burst = invoke(
        app,
        ("PATCH", path, patch),
        *(("GET", "/api/v1/tasks", {"headers": me}) for _ in range(5)),
        ("POST", "/api/v1/tasks", create),  # the same key: replayed, not a second task
    )
    (events,) = invoke(app, ("GET", "/api/v1/events", {"headers": me}))
    (token_created,) = invoke(
        app,
        (
            "POST",
            "/api/v1/auth/tokens",
            {"json": {"name": "cron", "scopes": ["tasks:read"]}, "headers": me},
        ),
    )
    token = data(token_created, 201)
    bearer = {"Authorization": f"Bearer {token['token']}"}
    (with_token,) = invoke(app, ("GET", "/api/v1/tasks", {"headers": bearer}))
    (revoked,) = invoke(app, ("DELETE", f"/api/v1/auth/tokens/{token['id']}", {"headers": me}))
    (after_revoke,) = invoke(app, ("GET", "/api/v1/tasks", {"headers": bearer}))
    return {
        "email": email,
        "task_id": task["id"],
        "ready": [ready.status_code, data_ready],
        "burst": [response.status_code for response in burst],
        "patched_title": burst[0].json()["data"]["title"],
        "replayed": burst[-1].headers.get("idempotent-replayed"),
        "events": [events.status_code, events.json()["error"], events.headers.get("retry-after")],
        "token": [with_token.status_code, revoked.status_code, after_revoke.status_code],
    }


def second(app: Any, email: str, task_id: str) -> dict[str, Any]:
    credentials = {"email": email, "password": PASSWORD}
    (logged_in,) = invoke(app, ("POST", "/api/v1/auth/login", {"json": credentials}))
    tokens = data(logged_in)
    (refreshed,) = invoke(
        app, ("POST", "/api/v1/auth/refresh", {"json": {"refresh_token": tokens["refresh_token"]}})
    )
    me = {"Authorization": f"Bearer {data(refreshed)['access_token']}"}
    task, synced, history = invoke(
        app,
        ("GET", f"/api/v1/tasks/{task_id}", {"headers": me}),
        ("GET", "/api/v1/sync", {"headers": me}),
        ("GET", "/api/v1/history", {"headers": me}),
    )
    return {
        "title": data(task)["title"],
        "synced": [item["title"] for item in data(synced)["tasks"]],
        "history": [entry["action_type"] for entry in data(history)["items"]],
    }


def main() -> None:
    app = cold_start()
    result = first(app) if sys.argv[1] == "first" else second(app, sys.argv[2], sys.argv[3])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
