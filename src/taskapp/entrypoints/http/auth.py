"""The bearer credential of a request: a session's JWT or an API token (`tat_...`).

Which credential a route accepts, and what it may do, is decided in `scopes.authorize`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from taskapp.domain.errors import Unauthorized


def bearer_token(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("Authentication is required: send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be: Bearer <token>")
    return token.strip()


def presented_token(request: Request[Any, Any, Any]) -> str | None:
    """The bearer token, if the request sends one; None otherwise (never raises)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
