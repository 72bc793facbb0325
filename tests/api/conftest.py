"""API tests: the real app on the real test database, one HTTP client per test."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher as Argon2Hasher
from litestar import Litestar

from taskapp.adapters import webhook_http
from taskapp.adapters.passwords import Argon2PasswordHasher
from taskapp.bootstrap import Container, build_container
from taskapp.config import Settings
from taskapp.domain.ports import Clock
from taskapp.entrypoints.http.app import create_app
from taskapp.entrypoints.http.webhook_payloads import JsonEventPayloads

PASSWORD = "correct horse battery staple"


def fast_hasher() -> Argon2PasswordHasher:
    """Still Argon2id, with test-sized cost so the suite stays fast."""
    return Argon2PasswordHasher(4, Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1))


def make_settings(database_url: str, tmp: Path, **overrides: Any) -> Settings:
    base = Settings(
        database_url=database_url,
        data_dir=tmp,
        jwt_secret="test-secret-" + "x" * 40,
        rate_limit_per_address=10_000,
        rate_limit_per_email=10_000,
        # No in-process app delivers webhooks: a schema-valid public target must never be
        # sent a packet (tests/api/test_webhook_delivery.py delivers to 127.0.0.1).
        webhook_delivery=False,
    )
    return dataclasses.replace(base, **overrides)


async def _no_dns(host: str, port: int) -> list[str]:
    """Webhook targets named in these tests resolve without a DNS query leaving the
    machine: `localhost` is loopback, every other name does not exist."""
    if host == "localhost":
        return ["127.0.0.1"]
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        raise socket.gaierror(socket.EAI_NONAME, "not resolved in tests") from None


@pytest.fixture(autouse=True, scope="session")
def _hermetic_webhook_targets() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook_http, "resolve", _no_dns)
        yield


@pytest.fixture(autouse=True)
def _empty_tables(clean_tables: None) -> None:
    """Every API test starts from an empty, migrated schema."""


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
async def container(settings: Settings) -> AsyncIterator[Container]:
    container = build_container(settings, JsonEventPayloads(), hasher=fast_hasher())
    yield container
    await container.close()


@pytest.fixture(scope="session")
def app(settings: Settings, container: Container) -> Litestar:
    return create_app(settings, container)


@asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Talk to an app built with a container, in-process, on the test's own event loop.

    (Litestar's AsyncTestClient runs the app on a second loop in a thread, which a pool of
    asyncpg connections made on the test loop cannot cross.)
    """
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@asynccontextmanager
async def serve_with(
    settings: Settings, clock: Clock | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app of its own: its own settings, container (and clock), closed after."""
    container = build_container(settings, JsonEventPayloads(), clock=clock, hasher=fast_hasher())
    try:
        async with serve(create_app(settings, container)) as client:
            yield client
    finally:
        await container.close()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as client:
        yield client


@pytest.fixture
async def me(client: httpx.AsyncClient) -> dict[str, str]:
    """A freshly registered, signed-in user's Authorization header."""
    from tests.api.helpers import signed_in  # helpers imports this module (PASSWORD)

    return await signed_in(client)


@pytest.fixture
async def other(client: httpx.AsyncClient) -> dict[str, str]:
    """A second user, for isolation tests."""
    from tests.api.helpers import signed_in

    return await signed_in(client)
