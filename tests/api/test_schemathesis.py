"""Property-based testing of every operation with schemathesis, in-process, on real
PostgreSQL, signed in as a real user: every built-in check must pass.

The document is generated from the app at collection time (no database needed); the
requests go to an app that builds its own container in its lifespan, because schemathesis
runs ASGI apps on an event loop of its own, which the tests' connection pool cannot serve.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar

from taskapp.bootstrap import Container
from taskapp.config import Settings
from taskapp.entrypoints.http.app import create_app
from tests.api.conftest import PASSWORD
from tests.api.helpers import unique_email

MAX_EXAMPLES = 30

_document = create_app(Settings(jwt_secret="only-for-the-document-" + "x" * 20)).openapi_schema
schema = schemathesis.openapi.from_dict(_document.to_schema())


@pytest.fixture(scope="session")
def live_app(settings: Settings) -> Litestar:
    app = create_app(settings)
    schema.app = app  # probes sent by the checks themselves go to the app too
    return app


@pytest.fixture
async def bearer(container: Container) -> dict[str, str]:
    email = unique_email()
    await container.accounts.register(email, PASSWORD, None, "schemathesis")
    pair = await container.accounts.login(email, PASSWORD, "schemathesis")
    return {"Authorization": f"Bearer {pair.access_token}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: CI stays reproducible
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_honours_its_contract(
    case: Any, bearer: dict[str, str], live_app: Litestar
) -> None:
    case.operation.app = live_app
    case.operation.schema.app = live_app
    if case.headers and "Idempotency-Key" in case.headers:
        # All examples of one operation share a user; a generated key reused with another
        # body is rightly a 422 (tested in test_tasks.py), so each example gets its own.
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate(headers=bearer)
