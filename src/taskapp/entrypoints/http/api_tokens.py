"""/api/v1/auth/tokens: create, list and revoke API tokens (a session only; see scopes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import PathParameter

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.api_tokens import (
    API_TOKEN_EXPIRY_DAYS_MAX,
    API_TOKEN_EXPIRY_DAYS_MIN,
    API_TOKEN_NAME_MAX_LENGTH,
    ApiToken,
    Scope,
    sorted_scopes,
)
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import ApiTokens, CurrentUserId
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import UUID_PATTERN, parse_id, whole
from taskapp.entrypoints.http.openapi import answers, documents_body
from taskapp.entrypoints.http.scopes import Access

TokenId = Annotated[str, PathParameter(pattern=UUID_PATTERN, description="the token's id")]

TokenName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=API_TOKEN_NAME_MAX_LENGTH,
        pattern=whole(r"[^\x00]*[^\x00\t\n\x0b\x0c\r ][^\x00]*"),
        description="what the token is for; trimmed, 1 to 100 characters",
    ),
]
Scopes = Annotated[
    list[Scope],
    msgspec.Meta(min_length=1, max_length=2 * len(Scope), description="at least one scope"),
]
ExpiresInDays = Annotated[
    int,
    msgspec.Meta(
        ge=API_TOKEN_EXPIRY_DAYS_MIN,
        le=API_TOKEN_EXPIRY_DAYS_MAX,
        description="days until the token stops working; absent or null: never",
    ),
]


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: TokenName
    scopes: Scopes
    # JSON Schema counts 30.0 as an integer; so do we. 30.5, "30" and true are not.
    expires_in_days: ExpiresInDays | float | None = None

    __schema_patch__: ClassVar[dict[str, Any]] = {
        "properties": {
            "expires_in_days": {
                "anyOf": [
                    {
                        "type": "integer",
                        "minimum": API_TOKEN_EXPIRY_DAYS_MIN,
                        "maximum": API_TOKEN_EXPIRY_DAYS_MAX,
                    },
                    {"type": "null"},
                ],
                "default": None,
                "description": "days until the token stops working; absent or null: never",
            }
        }
    }

    def whole_days(self) -> int | None:
        days = self.expires_in_days
        if isinstance(days, float):
            if not days.is_integer():
                raise ValidationFailed.of("expires_in_days", "must be a whole number of days")
            return int(days)
        return days


class TokenOut(msgspec.Struct):
    id: UUID
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            token.id,
            token.name,
            sorted_scopes(token.scopes),
            token.created_at,
            token.expires_at,
            token.last_used_at,
        )


class CreatedTokenOut(msgspec.Struct):
    id: UUID
    name: str
    scopes: list[str]
    token: str  # shown only here
    created_at: datetime
    expires_at: datetime | None


class TokenListOut(msgspec.Struct):
    items: list[TokenOut]


class RevokedOut(msgspec.Struct):
    id: UUID


class ApiTokenController(Controller):
    path = "/auth/tokens"
    tags = ["auth"]

    @post(
        "/",
        status_code=201,
        scope=Access.SESSION_ONLY,
        opt=documents_body(TokenCreate, errors=("LIMIT_REACHED",), popups=("TOKEN_CREATED",)),
    )
    async def create_token(
        self, request: Request[Any, Any, Any], api_tokens: ApiTokens, user_id: CurrentUserId
    ) -> Response[Envelope[CreatedTokenOut]]:
        """Create an API token. The token (`tat_...`) is in this answer only: keep it."""
        body = await read_json(request, TokenCreate)
        scopes = [scope.value for scope in body.scopes]
        issued = await api_tokens.create(user_id, body.name, scopes, body.whole_days())
        record = issued.record
        out = CreatedTokenOut(
            record.id,
            record.name,
            sorted_scopes(record.scopes),
            issued.token,
            record.created_at,
            record.expires_at,
        )
        return ok(out, popup="TOKEN_CREATED", status_code=201)

    @get("/", scope=Access.SESSION_ONLY)
    async def list_tokens(
        self, api_tokens: ApiTokens, user_id: CurrentUserId
    ) -> Response[Envelope[TokenListOut]]:
        """Your API tokens, oldest first (never the tokens themselves)."""
        tokens = await api_tokens.list_for(user_id)
        return ok(TokenListOut([TokenOut.of(token) for token in tokens]))

    @delete(
        "/{token_id:str}",
        status_code=200,
        scope=Access.SESSION_ONLY,
        opt=answers("TOKEN_REVOKED"),
    )
    async def revoke_token(
        self, api_tokens: ApiTokens, user_id: CurrentUserId, token_id: TokenId
    ) -> Response[Envelope[RevokedOut]]:
        """Revoke an API token: refused at once by every server instance."""
        parsed = parse_id(token_id, "token_id")
        await api_tokens.revoke(user_id, parsed)
        return ok(RevokedOut(parsed), popup="TOKEN_REVOKED")
