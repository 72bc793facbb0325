"""The HTTP skeleton: health, the envelope for 404 / 405 / 500, request ids."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from litestar import get

from taskapp.bootstrap import Container, build_container
from taskapp.config import Settings
from taskapp.entrypoints.http.app import create_app
from taskapp.entrypoints.http.webhook_payloads import JsonEventPayloads
from tests.api.conftest import serve
from tests.api.helpers import Client, assert_error


async def test_live_answers_while_the_process_runs(client: Client) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_answers_and_schema_is_current(client: Client) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


async def test_ready_is_503_when_the_schema_is_behind(
    settings: Settings, container: Container
) -> None:
    stale = dataclasses.replace(container, expected_revision="9999")
    async with serve(create_app(settings, stale)) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert "9999" in response.json()["reason"]


async def test_ready_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:1/none",
        data_dir=tmp_path,
        jwt_secret="s" * 40,
        db_connect_timeout_seconds=1,
    )
    container = build_container(settings, JsonEventPayloads())
    try:
        async with serve(create_app(settings, container)) as client:
            response = await client.get("/health/ready")
    finally:
        await container.close()
    assert response.status_code == 503
    assert response.json()["reason"] == "database unreachable"


async def test_unknown_route_is_404_in_the_envelope(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here")
    body = assert_error(response, 404, "NOT_FOUND")
    assert body["error"]["message"]


async def test_wrong_method_is_405_in_the_envelope(client: Client) -> None:
    response = await client.delete("/api/v1/auth/login")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


async def test_unexpected_exception_is_500_without_internals(
    settings: Settings, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internal detail: SELECT * FROM users")

    app = create_app(settings, container)
    app.register(boom)
    async with serve(app) as client:
        with caplog.at_level(logging.ERROR):
            response = await client.get("/boom", headers={"X-Request-ID": "req-500-test"})
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert body["error"]["request_id"] == "req-500-test"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert "secret internal detail" in caplog.text  # the traceback goes to the log


async def test_request_id_is_echoed_when_sane(client: Client) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


@pytest.mark.parametrize("bad", ["", "x" * 200, "has space", "bad\u00e9"])
async def test_request_id_is_generated_when_missing_or_insane(client: Client, bad: str) -> None:
    headers = {"X-Request-ID": bad} if bad.isascii() else {"X-Request-ID": bad.encode()}  # type: ignore[dict-item]
    response = await client.get("/health/live", headers=headers)
    generated = response.headers["x-request-id"]
    assert generated != bad
    assert len(generated) == 32


async def test_every_error_carries_a_request_id_header(client: Client) -> None:
    response = await client.get("/api/v1/nope")
    assert response.headers["x-request-id"]
