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
from schemathesis.specs.openapi.checks import positive_data_acceptance

from taskapp.bootstrap import Container
from taskapp.config import Settings
from taskapp.entrypoints.http.app import create_app
from tests.api.conftest import PASSWORD
from tests.api.helpers import unique_email

MAX_EXAMPLES = 30

_document = create_app(Settings(jwt_secret="only-for-the-document-" + "x" * 20)).openapi_schema
# GET /events is a live stream (text/event-stream) that stays open until the client leaves:
# it has no answer to validate request/response style, and the in-process transport would
# wait for its end forever. tests/api/test_events.py tests it through a real server.
schema = schemathesis.openapi.from_dict(_document.to_schema()).exclude(
    path="/api/v1/events", method="GET"
)


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
    response = case.call(headers=bearer)
    excluded = [positive_data_acceptance] if names_a_missing_reference(response) else []
    case.validate_response(response, headers=bearer, excluded_checks=excluded)


# Fields naming another resource of the caller's (a list, a parent task, a neighbour):
# whether the id exists, belongs to the caller and fits (no cycle, not too deep, a sibling)
# is a fact of the data a schema cannot state, so a schema-valid id may rightly be a 422.
# A sync cursor (GET /sync?cursor=) is bound to the user it was issued to: the schema
# states its form, not whose it is, so a well-formed one of nobody's is rightly a 422 too.
# Labels: "at most 20 after case-insensitive duplicates collapse" and "not blank once
# trimmed of Unicode whitespace" are rules over the whole set and over Unicode, which a
# JSON Schema cannot state either (the schema bounds what it can: 1-50 characters each).
_REFERENCES = {"list_id", "parent_id", "after_id", "before_id", "cursor", "labels"}
# In an imported file (POST /tasks/import), the rows' ids refer to each other (a parent in
# the same list, no cycle, no id twice), and a CSV file's header and encoding are facts of
# its text: a string schema cannot state them either.
_FILE_REFERENCES = {"file", "id", "list_id", "list_name", "parent_id"}


def names_a_missing_reference(response: Any) -> bool:
    if response.status_code != 422:
        return False
    details = (response.json().get("error") or {}).get("details") or []
    return bool(details) and all(_is_reference(str(d.get("field"))) for d in details)


def _is_reference(field: str) -> bool:
    if field == "file" or field.startswith("rows["):
        return field.rpartition(".")[2] in _FILE_REFERENCES
    return field in _REFERENCES
