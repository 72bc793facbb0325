"""Bearer authentication as a dependency: verify the JWT, no database round trip."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request

from taskapp.domain.errors import Unauthorized
from taskapp.domain.ports import TokenService


def bearer_token(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("Authentication is required: send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be: Bearer <token>")
    return token.strip()


def authenticate(request: Request[Any, Any, Any], tokens: TokenService) -> UUID:
    user_id = tokens.verify_access_token(bearer_token(request))
    request.scope["state"]["user_id"] = str(user_id)  # for the access log
    return user_id
