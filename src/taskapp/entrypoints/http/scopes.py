"""Who may call each route: one declaration next to the route, enforced in one place.

Every route handler names what it needs with the `scope=` keyword of its decorator
(Litestar keeps extra keywords in the handler's `opt`, so nothing else is needed):

    @get("/{task_id:str}", scope=Scope.TASKS_READ)    # a session, or an API token with
    @post("/", scope=Scope.TASKS_WRITE, opt=...)      #   that scope (else 403 INSUFFICIENT_SCOPE)
    @get("/me", scope=Access.SIGNED_IN)               # any valid credential, no scope needed
    @post("/password", scope=Access.SESSION_ONLY)     # an API token gets 403 FORBIDDEN
    @post("/refresh", scope=Access.NO_API_TOKEN)      # no credentials, but an API token is 403
    @post("/login", scope=Access.PUBLIC)              # no credentials at all

Reads of the caller's data take `<area>:read`, changes `<area>:write` (lists and labels are
`tasks:read` / `tasks:write`, like tasks). A session (a JWT from login) may do everything;
its routes need no other declaration. `tests/api/test_route_scopes.py` walks every route of
the app and fails on one that declares nothing (or declares it on a controller or router
instead of the route), so a new route cannot be forgotten.

`authorize` is the one place that reads the declaration. It runs inside the `user_id`
dependency (every signed-in handler asks for it, directly or through its service) and the
`caller` dependency (for NO_API_TOKEN routes), so it costs what the JWT check cost before:
an API token is verified from an in-process cache (see adapters/api_token_cache.py).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from litestar import Request

from taskapp.bootstrap import Container
from taskapp.domain.errors import Forbidden, InsufficientScope
from taskapp.domain.model.api_tokens import Principal, Scope, looks_like_api_token
from taskapp.entrypoints.http.auth import bearer_token, presented_token

__all__ = [
    "SCOPE_OPTION",
    "TICKET_OPTION",
    "Access",
    "Declaration",
    "Scope",
    "authorize",
    "declared",
]

SCOPE_OPTION = "scope"
# `opt` of a route that also takes `?ticket=` (browsers' EventSource cannot send headers).
TICKET_OPTION = "accepts_ticket"


class Access(Enum):
    """Declarations for routes that need no particular scope."""

    PUBLIC = "public"
    SIGNED_IN = "signed-in"
    SESSION_ONLY = "session-only"
    NO_API_TOKEN = "no-api-token"  # noqa: S105 - a name, not a secret


Declaration = Scope | Access
# Routes that authenticate the caller (through the `user_id` dependency).
SIGNED_IN_DECLARATIONS = (Access.SIGNED_IN, Access.SESSION_ONLY, *Scope)


def declared(opt: dict[str, Any]) -> Declaration | None:
    value = opt.get(SCOPE_OPTION)
    return value if isinstance(value, Scope | Access) else None


async def authorize(request: Request[Any, Any, Any], container: Container) -> Principal | None:
    """The caller of this route as its declaration allows, or the answer that refuses it:
    401 without valid credentials, 403 FORBIDDEN for an API token on a route only a session
    may use, 403 INSUFFICIENT_SCOPE for an API token without the route's scope."""
    access = request.scope["route_handler"].opt.get(SCOPE_OPTION)
    if access is Access.PUBLIC:
        return None
    if access is Access.NO_API_TOKEN:
        token = presented_token(request)
        if token is not None and looks_like_api_token(token):
            raise Forbidden("API tokens cannot be used here; this route is for sessions only")
        return None
    handler_opt = request.scope["route_handler"].opt
    ticket = request.query_params.get("ticket")
    if ticket and handler_opt.get(TICKET_OPTION) and "authorization" not in request.headers:
        # Single use, whatever follows: redeemed here, before anything else can fail.
        user_id = await container.sync.redeem_ticket(ticket)
        request.scope["state"]["user_id"] = str(user_id)
        return Principal(user_id, scopes=frozenset({Scope.EVENTS_READ}))
    token = bearer_token(request)
    if looks_like_api_token(token):
        principal = await container.api_tokens.authenticate(token)
        if isinstance(access, Scope):
            if not principal.allows(access):
                raise InsufficientScope(access.value)
        elif access is not Access.SIGNED_IN:  # SESSION_ONLY, and undeclared (fail closed)
            raise Forbidden("API tokens cannot be used here; sign in with a password")
    else:
        principal = Principal(container.tokens.verify_access_token(token))
    state = request.scope["state"]
    state["user_id"] = str(principal.user_id)  # the access log's fields: never the token
    if principal.token_id is not None:
        state["token_id"] = str(principal.token_id)
    return principal
