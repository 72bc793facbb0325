"""Property-based testing of every operation with schemathesis, in-process, on real
PostgreSQL, signed in as a real user: every built-in check must pass, in every phase
(examples, coverage, fuzzing, and stateful: sequences that follow the document's links
from each create to the operations on what it created, with its ETag as If-Match).

The document is generated from the app at collection time (no database needed); the
requests go to an app that builds its own container in its lifespan, because schemathesis
runs ASGI apps on an event loop of its own, which the tests' connection pool cannot serve.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar

from taskapp.bootstrap import Container
from taskapp.config import Settings
from taskapp.entrypoints.http.app import create_app
from taskapp.entrypoints.http.openapi import openapi_document
from tests.api.conftest import PASSWORD
from tests.api.helpers import unique_email
from tests.support import schemathesis_rules

MAX_EXAMPLES = 30
STATEFUL_EXAMPLES = 25

_document = openapi_document(create_app(Settings(jwt_secret="only-for-the-document-" + "x" * 20)))
# GET /events is a live stream (text/event-stream) that stays open until the client leaves:
# it has no answer to validate request/response style, and the in-process transport would
# wait for its end forever. tests/api/test_events.py tests it through a real server.
schema = schemathesis.openapi.from_dict(_document).exclude(path="/api/v1/events", method="GET")
_IDEMPOTENCY_KEY = re.compile(
    next(
        parameter["schema"]["pattern"]
        for parameter in _document["paths"]["/api/v1/tasks"]["post"]["parameters"]
        if parameter["name"] == "Idempotency-Key"
    )
)
# Which refusals are right although schemathesis' checks call them failures (a 422 naming
# only fields whose validity is a fact of the data; a 412 to an If-Match) is one
# `filter_failure` hook, registered by importing tests/support/schemathesis_rules.py and
# shared with the live run against a real server (`make fuzz`).


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


def test_every_phase_is_enabled() -> None:
    phases = schema.config.phases
    assert phases.examples.enabled
    assert phases.coverage.enabled
    assert phases.fuzzing.enabled
    assert phases.stateful.enabled


def test_the_shared_rules_are_in_force() -> None:
    hooks = schemathesis.hooks.get_all_by_name("filter_failure")
    assert hooks == [schemathesis_rules.keep_failures_of_the_api]


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
    fresh_idempotency_key(case)
    response = case.call(headers=bearer)
    case.validate_response(response, headers=bearer)


def test_stateful_sequences_honour_the_contract(live_app: Litestar) -> None:
    """Create, then follow the links (get, change with the ETag as If-Match, complete,
    move, delete) in generated orders; every answer is checked.

    Each sequence signs up a user of its own. Hypothesis keeps a tree of the choices it
    made and checks that the same choices lead to the same draws; a draw from a bundle
    depends on how many creates answered 201 so far. With one user for every sequence, a
    replayed create met the data of earlier sequences (a list name taken: 409), the bundle
    came out shorter, and hypothesis rightly reported FlakyStrategyDefinition
    (decision 0022). With a fresh user the same requests get the same answers."""

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.bearer = sign_up(live_app)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            case.operation.app = live_app
            case.operation.schema.app = live_app
            fresh_idempotency_key(case)
            return {"headers": self.bearer}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, headers=self.bearer)

    Links.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            deadline=None,
            # Schemathesis steers the stateful phase by what earlier answers held, which
            # hypothesis' replay of a derandomized run takes for flaky data generation.
            database=None,
            suppress_health_check=list(HealthCheck),
            stateful_step_count=6,
        )
    )


def fresh_idempotency_key(case: Any) -> None:
    """All examples of one operation share a user; a valid key reused with another body is
    rightly a 422 (tested in test_tasks.py; a rule in schemathesis_rules.py) that creates
    nothing, so each valid key is made unique. An invalid key (a negative case) is kept:
    its rejection is what that case tests."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and _IDEMPOTENCY_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex


def sign_up(app: Litestar) -> dict[str, str]:
    """A new user, through the app itself: its Authorization header."""
    email = unique_email()
    credentials = {"email": email, "password": PASSWORD}
    for path in ("/api/v1/auth/register", "/api/v1/auth/login"):
        operation = schema[path]["POST"]
        operation.app = app
        answer = operation.Case(body=credentials, media_type="application/json").call()
        assert answer.status_code in (200, 201), answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['access_token']}"}
