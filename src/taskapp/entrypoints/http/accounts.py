"""/api/v1/auth: register, login, refresh, logout, me, password."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import TokenPair, User
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import Accounts, Caller, CurrentUserId
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import (
    AnyEmail,
    AnyPassword,
    DisplayName,
    Email,
    NewPassword,
    Token,
)
from taskapp.entrypoints.http.openapi import BEARER, documents_body
from taskapp.entrypoints.http.scopes import Access

_FORM_FIELD_MAX_LENGTH = 1024


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: AnyEmail
    password: AnyPassword


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Token


class ChangePasswordRequest(msgspec.Struct, forbid_unknown_fields=True):
    current_password: AnyPassword
    new_password: NewPassword


class UserOut(msgspec.Struct):
    id: UUID
    email: str
    display_name: str | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(user.id, user.email, user.display_name, user.created_at)


class TokensOut(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> TokensOut:
        return cls(
            pair.access_token,
            "Bearer",
            pair.expires_in,
            pair.refresh_token,
            pair.refresh_expires_in,
        )


class Empty(msgspec.Struct):
    pass


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


async def _read_login(request: Request[Any, Any, Any]) -> LoginRequest:
    """JSON, or the OAuth2 password form (`username`, `password`) the docs page sends."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        return await read_json(request, LoginRequest)
    form = await request.form()
    username, password = form.get("username"), form.get("password")
    for field, value in (("username", username), ("password", password)):
        if not isinstance(value, str):
            raise ValidationFailed.of(field, "is required")
        if len(value) > _FORM_FIELD_MAX_LENGTH:
            raise ValidationFailed.of(field, f"must be at most {_FORM_FIELD_MAX_LENGTH} characters")
    assert isinstance(username, str)
    assert isinstance(password, str)
    return LoginRequest(email=username, password=password)


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=201,
        scope=Access.PUBLIC,
        opt=documents_body(
            RegisterRequest,
            errors=("EMAIL_ALREADY_REGISTERED", "RATE_LIMITED"),
            popups=("USER_REGISTERED",),
        ),
    )
    async def register(
        self, request: Request[Any, Any, Any], accounts: Accounts
    ) -> Response[Envelope[UserOut]]:
        """Create an account."""
        body = await read_json(request, RegisterRequest)
        user = await accounts.register(
            body.email, body.password, body.display_name, client_address(request)
        )
        return ok(UserOut.of(user), popup="USER_REGISTERED", status_code=201)

    @post(
        "/login",
        status_code=200,
        scope=Access.PUBLIC,
        opt=documents_body(
            LoginRequest,
            form=True,
            errors=("INVALID_CREDENTIALS", "RATE_LIMITED"),
            popups=("LOGGED_IN",),
        ),
    )
    async def login(
        self, request: Request[Any, Any, Any], accounts: Accounts
    ) -> Response[Envelope[TokensOut]]:
        """Exchange email and password for an access token and a refresh token."""
        body = await _read_login(request)
        pair = await accounts.login(body.email, body.password, client_address(request))
        return ok(TokensOut.of(pair), popup="LOGGED_IN")

    @post(
        "/refresh",
        status_code=200,
        scope=Access.NO_API_TOKEN,
        operation_id="refreshTokens",
        opt=documents_body(RefreshRequest, errors=("TOKEN_REUSED",), popups=("TOKEN_REFRESHED",)),
    )
    async def refresh(
        self, request: Request[Any, Any, Any], accounts: Accounts, caller: Caller
    ) -> Response[Envelope[TokensOut]]:
        """Spend a refresh token for a new token pair (rotation; reuse revokes the family)."""
        del caller  # asked for its check only: an API token never refreshes a session
        body = await read_json(request, RefreshRequest)
        pair = await accounts.refresh(body.refresh_token)
        return ok(TokensOut.of(pair), popup="TOKEN_REFRESHED")

    @post(
        "/logout",
        status_code=200,
        security=BEARER,
        scope=Access.SESSION_ONLY,
        opt=documents_body(RefreshRequest, popups=("LOGGED_OUT",)),
    )
    async def logout(
        self, request: Request[Any, Any, Any], accounts: Accounts, user_id: CurrentUserId
    ) -> Response[Envelope[Empty]]:
        """Revoke the refresh token's whole family."""
        body = await read_json(request, RefreshRequest)
        await accounts.logout(user_id, body.refresh_token)
        return ok(Empty(), popup="LOGGED_OUT")

    @get("/me", security=BEARER, scope=Access.SIGNED_IN, operation_id="getCurrentUser")
    async def me(self, accounts: Accounts, user_id: CurrentUserId) -> Response[Envelope[UserOut]]:
        """The signed-in user."""
        return ok(UserOut.of(await accounts.current_user(user_id)))

    @post(
        "/password",
        status_code=200,
        security=BEARER,
        scope=Access.SESSION_ONLY,
        opt=documents_body(
            ChangePasswordRequest, errors=("INVALID_CREDENTIALS",), popups=("PASSWORD_CHANGED",)
        ),
    )
    async def change_password(
        self, request: Request[Any, Any, Any], accounts: Accounts, user_id: CurrentUserId
    ) -> Response[Envelope[Empty]]:
        """Change the password; every refresh token of the user is revoked."""
        body = await read_json(request, ChangePasswordRequest)
        await accounts.change_password(user_id, body.current_password, body.new_password)
        return ok(Empty(), popup="PASSWORD_CHANGED")
