"""Operations: metrics, security headers, CORS, offline docs, structured and redacted logs."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from taskapp.entrypoints.logs import configure_logging
from tests.api.conftest import PASSWORD
from tests.api.helpers import Client, login, register, signed_in


async def test_metrics_count_requests_by_route_template_and_status(client: Client) -> None:
    me = await signed_in(client)
    task = (await client.post("/api/v1/tasks", json={"title": "m"}, headers=me)).json()["data"]
    await client.get(f"/api/v1/tasks/{task['id']}", headers=me)
    await client.get("/api/v1/nowhere")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    series = (
        'taskapp_http_requests_total{method="GET",route="/api/v1/tasks/{task_id}",status="200"}'
    )
    counted = [line for line in text.splitlines() if line.startswith(series)]
    assert counted, text
    assert float(counted[0].rsplit(" ", 1)[1]) >= 1
    assert 'route="unmatched",status="404"' in text
    assert "taskapp_http_request_duration_seconds_bucket" in text
    for gauge in ("size", "open", "in_use", "idle", "waiting"):
        assert f"taskapp_db_pool_{gauge} " in text
    assert task["id"] not in text  # templates, not raw paths: bounded label values


async def test_security_headers(client: Client) -> None:
    me = await signed_in(client)
    api = await client.get("/api/v1/auth/me", headers=me)
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["cache-control"] == "no-store"
    error = await client.get("/api/v1/auth/me")
    assert error.headers["cache-control"] == "no-store"
    health = await client.get("/health/live")
    assert health.headers["x-content-type-options"] == "nosniff"


async def test_cors_preflight_allows_the_configured_origin_only(client: Client) -> None:
    preflight = await client.options(
        "/api/v1/tasks",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "if-match", "idempotency-key"):
        assert header in allowed
    me = await signed_in(client)
    simple = await client.get("/api/v1/auth/me", headers={**me, "Origin": "http://localhost:3000"})
    exposed = simple.headers["access-control-expose-headers"].lower()
    for header in ("etag", "location", "x-request-id", "retry-after", "idempotent-replayed"):
        assert header in exposed
    evil = await client.get("/api/v1/auth/me", headers={**me, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


async def test_docs_page_and_assets_work_offline(client: Client) -> None:
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", page.text)
    assert external == []
    for asset in re.findall(r"""(?:src|href)=["'](/schema/assets/[^"']+)""", page.text):
        assert (await client.get(asset)).status_code == 200, asset
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/tasks" in document["paths"]


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging("DEBUG", json_lines=True, stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)


async def test_access_log_lines_are_structured(client: Client, captured_logs: io.StringIO) -> None:
    me = await signed_in(client)
    await client.get("/api/v1/auth/me", headers={**me, "X-Request-ID": "trace-me-1"})
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "taskapp.access"]
    me_line = next(line for line in access if line.get("request_id") == "trace-me-1")
    assert me_line["method"] == "GET"
    assert me_line["route"] == "/api/v1/auth/me"
    assert me_line["status"] == 200
    assert me_line["user_id"]
    assert me_line["duration_ms"] >= 0


async def test_no_secret_reaches_a_log_line(client: Client, captured_logs: io.StringIO) -> None:
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        email = await register(client)
        tokens = await login(client, email)
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        await client.get("/api/v1/auth/me", headers=bearer)
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        await client.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "a whole new passphrase"},
            headers=bearer,
        )
        logging.getLogger("probe").info(
            "header %s body %s", bearer["Authorization"], {"password": PASSWORD}
        )
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    output = captured_logs.getvalue()
    assert "taskapp.access" in output  # the log was really captured
    secrets = [
        PASSWORD,
        "a whole new passphrase",
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["data"]["refresh_token"],
        refreshed.json()["data"]["access_token"],
    ]
    for secret in secrets:
        assert secret not in output
    assert "[REDACTED]" in output
