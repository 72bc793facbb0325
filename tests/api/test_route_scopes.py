"""Every route names who may call it (`scope=` on its decorator, see entrypoints/http/scopes.py),
and every signed-in route answers each kind of credential as the contract says:

    no token · a session · an API token with the route's scope · one without it · a revoked
    one · an expired one · another user's (on routes that take an id)

The routes come from the app itself, so a new route is in the matrix the moment it exists
(give it a body below if an empty one would not reach its use case)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from inspect import signature
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from sqlalchemy.ext.asyncio import AsyncEngine

from taskapp.config import Settings
from taskapp.domain.model.api_tokens import Scope
from taskapp.entrypoints.http.app import create_app
from taskapp.entrypoints.http.scopes import SCOPE_OPTION, Access, declared
from tests.api.conftest import PASSWORD
from tests.api.helpers import Client, login, register

_APP = create_app(
    Settings(database_url="postgresql://unused@127.0.0.1/unused", jwt_secret="x" * 40)
)
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
_DOCS_PREFIX = "/schema"


def _handlers(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method == "OPTIONS" and handler.handler_name == "options_handler":
                    continue  # Litestar's own, answered before any handler (CORS preflight)
                yield method, route.path, handler


def _depends_on(handler: HTTPRouteHandler, name: str) -> bool:
    """Whether resolving the handler's parameters resolves dependency `name`."""
    providers = handler.resolve_dependencies()
    seen: set[str] = set()
    pending = [p for p in handler.parsed_fn_signature.parameters if p in providers]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        provider = providers[current]
        pending += [p for p in signature(provider.dependency).parameters if p in providers]
    return name in seen


# The walk: every route declares, on itself, and the declaration is enforced.


def test_every_route_declares_who_may_call_it() -> None:
    undeclared = [
        f"{method} {path}"
        for method, path, handler in _handlers(_APP)
        if declared(handler.opt) is None
    ]
    assert not undeclared, f"routes without scope=...: {undeclared}"


def test_declarations_sit_on_the_routes_not_on_controllers_or_routers() -> None:
    """Only the docs routers (Litestar's and the static assets') declare for their routes."""
    misplaced = []
    for method, path, handler in _handlers(_APP):
        for layer in handler.ownership_layers[:-1]:
            value = (getattr(layer, "opt", None) or {}).get(SCOPE_OPTION)
            docs = path.startswith(_DOCS_PREFIX) and value is Access.PUBLIC
            if value is not None and not docs:
                misplaced.append(f"{method} {path} ({type(layer).__name__})")
    assert not misplaced


def test_the_declarations_are_enforced_by_the_dependencies_each_route_resolves() -> None:
    problems = []
    for method, path, handler in _handlers(_APP):
        access = declared(handler.opt)
        signed_in = _depends_on(handler, "user_id")
        if isinstance(access, Scope) or access in (Access.SIGNED_IN, Access.SESSION_ONLY):
            if not signed_in:
                problems.append(f"{method} {path}: declares {access} but never authenticates")
        elif access is Access.NO_API_TOKEN:
            if not _depends_on(handler, "caller"):
                problems.append(f"{method} {path}: declares NO_API_TOKEN without `caller`")
        elif signed_in:
            problems.append(f"{method} {path}: public, yet asks for the signed-in user")
    assert not problems


def test_the_declared_scopes_are_the_contracts() -> None:
    by_route = {
        f"{method} {path}": declared(handler.opt)
        for method, path, handler in _handlers(_APP)
        if path.startswith("/api/v1/")
    }
    session_only = {
        "POST /api/v1/auth/tokens",
        "GET /api/v1/auth/tokens",
        "DELETE /api/v1/auth/tokens/{token_id:str}",
        "POST /api/v1/auth/password",
        "POST /api/v1/auth/logout",
    }
    for route in session_only:
        assert by_route[route] is Access.SESSION_ONLY, route
    assert by_route["POST /api/v1/auth/refresh"] is Access.NO_API_TOKEN
    for route, access in by_route.items():
        method, path = route.split(" ", 1)
        if path.startswith(("/api/v1/tasks", "/api/v1/lists", "/api/v1/labels")):
            if path.startswith("/api/v1/tasks/export"):
                assert access is Scope.EXPORTS_READ, route
            elif method == "GET":
                assert access is Scope.TASKS_READ, route
            else:
                assert access is Scope.TASKS_WRITE, route
        if path.startswith("/api/v1/history"):
            assert access is Scope.HISTORY_READ, route
        if path.startswith("/api/v1/stats"):
            assert access is Scope.STATS_READ, route
        if path.startswith(("/api/v1/sync", "/api/v1/events")):
            assert access is Scope.EVENTS_READ, route
        if path.startswith("/api/v1/webhooks"):
            assert access is Scope.WEBHOOKS_MANAGE, route


# The matrix.


@dataclass
class Caller:
    headers: dict[str, str]
    refresh_token: str
    task_id: str


@dataclass
class World:
    alice: Caller
    bob: Caller
    right: dict[str, str]  # Alice's API tokens ...
    without: dict[str, str]
    revoked: dict[str, str]
    expired: dict[str, str]
    bobs_token: dict[str, str]  # ... and Bob's, with every scope
    spare_token_id: str  # one of Alice's, for the routes that take a token id


ROUTES = [
    pytest.param(method, path, declared(handler.opt), id=f"{method} {path}")
    for method, path, handler in _handlers(_APP)
    if path.startswith("/api/v1/") and declared(handler.opt) not in (Access.PUBLIC, None)
]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _caller(client: Client) -> Caller:
    email = await register(client)
    tokens = await login(client, email)
    headers = _bearer(tokens["access_token"])
    task = await client.post("/api/v1/tasks", json={"title": "mine"}, headers=headers)
    return Caller(headers, tokens["refresh_token"], task.json()["data"]["id"])


async def _api_token(
    client: Client, caller: Caller, scopes: list[str], name: str = "matrix"
) -> tuple[str, str]:
    response = await client.post(
        "/api/v1/auth/tokens", json={"name": name, "scopes": scopes}, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return data["token"], data["id"]


async def _world(client: Client, engine: AsyncEngine, needed: Scope | Access) -> World:
    alice, bob = await _caller(client), await _caller(client)
    everything = [scope.value for scope in Scope]
    right, _ = await _api_token(client, alice, everything)
    others = [s for s in everything if s != getattr(needed, "value", None)]
    without, _ = await _api_token(
        client, alice, others[:1] if needed is Access.SIGNED_IN else others
    )
    revoked, revoked_id = await _api_token(client, alice, everything)
    response = await client.delete(f"/api/v1/auth/tokens/{revoked_id}", headers=alice.headers)
    assert response.status_code == 200
    expired, expired_id = await _api_token(client, alice, everything)
    async with engine.begin() as connection:  # expired yesterday; never used, so not cached
        await connection.execute(
            sa.text(
                "UPDATE api_tokens SET created_at = now() - interval '2 days', "
                "expires_at = now() - interval '1 day' WHERE id = :id"
            ),
            {"id": uuid.UUID(expired_id)},
        )
    bobs, _ = await _api_token(client, bob, everything)
    _, spare_id = await _api_token(client, alice, ["tasks:read"], "spare")
    return World(
        alice,
        bob,
        _bearer(right),
        _bearer(without),
        _bearer(revoked),
        _bearer(expired),
        _bearer(bobs),
        spare_id,
    )


def _path(template: str, values: dict[str, str]) -> str:
    return _PARAMETER.sub(lambda m: values.get(m[1], str(uuid.uuid4())), template)


async def _body(client: Client, method: str, path: str, world: World) -> Any:
    if path.endswith(("/auth/refresh", "/auth/logout")):
        fresh = await login(client, await register(client))  # never spent by another call
        return {"refresh_token": fresh["refresh_token"]}
    if path == "/api/v1/auth/password":
        return {"current_password": PASSWORD, "new_password": PASSWORD + "!"}
    if path == "/api/v1/auth/tokens" and method == "POST":
        return {"name": "made in the matrix", "scopes": ["tasks:read"]}
    if path == "/api/v1/reviews":
        return {"rating": 4}
    if path.endswith("/move"):
        return {}
    if method in ("POST", "PATCH") and path.startswith(("/api/v1/lists", "/api/v1/labels")):
        return {"name": f"matrix {uuid.uuid4().hex[:8]}"}
    if method in ("POST", "PUT", "PATCH") and path.startswith("/api/v1/tasks"):
        return {"title": "changed in the matrix"}
    return None


def _allowed(response: Any) -> bool:
    """The route's own answer: the credential was accepted (whatever the use case said)."""
    return response.status_code not in (401, 403) and response.status_code < 500


def _code_and_message(response: Any) -> tuple[str, str]:
    error = response.json()["error"]
    return error["code"], error["message"]


def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(("method", "path", "access"), ROUTES)
async def test_each_credential_gets_the_contracts_answer(
    client: Client, engine: AsyncEngine, method: str, path: str, access: Scope | Access
) -> None:
    world = await _world(client, engine, access)
    url = _path(path, {"task_id": world.alice.task_id, "token_id": world.spare_token_id})
    takes_id = _PARAMETER.search(path) is not None

    if path == "/api/v1/events":
        # A live stream never ends, and the in-process transport reads whole answers: a
        # well-formed cursor of nobody's makes the route answer (422) once it has let the
        # credential in. test_events.py opens real streams through a real server.
        url += "?cursor=" + "A" * 20

    async def call(headers: dict[str, str] | None, target: str = url) -> Any:
        body = await _body(client, method, path, world)
        return await client.request(method, target, json=body, headers=headers)

    # No token.
    response = await call(None)
    if access is Access.NO_API_TOKEN:
        assert response.status_code != 403
    else:
        _refused(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"].startswith("Bearer")

    # API tokens that are no longer valid: 401 wherever a token is checked.
    for dead in (world.revoked, world.expired):
        response = await call(dead)
        if access is Access.NO_API_TOKEN:
            _refused(response, 403, "FORBIDDEN")
        else:
            _refused(response, 401, "UNAUTHORIZED")
            assert response.headers["www-authenticate"].startswith("Bearer")

    # A valid API token without the route's scope.
    response = await call(world.without)
    if isinstance(access, Scope):
        _refused(response, 403, "INSUFFICIENT_SCOPE")
        assert response.headers["www-authenticate"] == (
            f'Bearer error="insufficient_scope", scope="{access.value}"'
        )
    elif access is Access.SIGNED_IN:
        assert _allowed(response), response.text
    else:
        _refused(response, 403, "FORBIDDEN")

    # Another user's API token aimed at Alice's item: exactly like a missing id.
    if takes_id and isinstance(access, Scope):
        foreign = await call(world.bobs_token)
        missing = await call(world.bobs_token, _path(path, {}))
        # 404 once the body reaches the lookup; any earlier refusal must match as well.
        assert foreign.status_code == missing.status_code >= 400, foreign.text
        assert _code_and_message(foreign) == _code_and_message(missing)

    # An API token with the scope.
    response = await call(world.right)
    if access in (Access.SESSION_ONLY, Access.NO_API_TOKEN):
        _refused(response, 403, "FORBIDDEN")
    else:
        assert _allowed(response), response.text

    # A session may do everything.
    response = await call(world.alice.headers)
    assert _allowed(response), response.text


async def test_another_users_token_id_is_not_found_like_a_missing_one(client: Client) -> None:
    alice, bob = await _caller(client), await _caller(client)
    _, alices_id = await _api_token(client, alice, ["tasks:read"])
    foreign = await client.delete(f"/api/v1/auth/tokens/{alices_id}", headers=bob.headers)
    missing = await client.delete(f"/api/v1/auth/tokens/{uuid.uuid4()}", headers=bob.headers)
    assert foreign.status_code == missing.status_code == 404
    assert _code_and_message(foreign) == _code_and_message(missing)
    listed = await client.get("/api/v1/auth/tokens", headers=alice.headers)
    assert [t["id"] for t in listed.json()["data"]["items"]] == [alices_id]
