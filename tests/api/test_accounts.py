"""/api/v1/auth through the real app on real PostgreSQL: every route and error code."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from taskapp.config import Settings
from tests.api.conftest import PASSWORD
from tests.api.helpers import Client, assert_error, login, register, signed_in, unique_email

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
PASSWORD_ROUTE = "/api/v1/auth/password"


async def test_register_returns_the_user_without_secrets(client: Client) -> None:
    response = await client.post(
        REGISTER, json={"email": "  Ada@Example.com ", "password": PASSWORD, "display_name": "Ada"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["popup"] == "USER_REGISTERED"
    assert body["error"] is None
    user = body["data"]
    assert set(user) == {"id", "email", "display_name", "created_at"}
    assert user["email"] == "Ada@Example.com"
    assert user["display_name"] == "Ada"
    uuid.UUID(user["id"])
    assert datetime.fromisoformat(user["created_at"]).utcoffset() == timedelta(0)
    assert "hash" not in response.text
    assert response.headers["content-type"].startswith("application/json")


async def test_register_duplicate_in_another_letter_case_is_409(client: Client) -> None:
    await register(client, "dup@example.com")
    response = await client.post(REGISTER, json={"email": "DUP@example.COM", "password": PASSWORD})
    assert_error(response, 409, "EMAIL_ALREADY_REGISTERED")


async def test_concurrent_registrations_of_one_email_create_one_user(client: Client) -> None:
    body = {"email": "race@example.com", "password": PASSWORD}
    responses = await asyncio.gather(*(client.post(REGISTER, json=body) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "no-at-sign", "password": PASSWORD}, "email"),
        ({"email": "a@b", "password": PASSWORD}, "email"),
        ({"email": "x" * 250 + "@example.com", "password": PASSWORD}, "email"),
        ({"email": "a\x00b@example.com", "password": PASSWORD}, "email"),
        ({"email": "ok@example.com", "password": "x" * 11}, "password"),
        ({"email": "ok@example.com", "password": "x" * 129}, "password"),
        (
            {"email": "ok@example.com", "password": PASSWORD, "display_name": "x" * 101},
            "display_name",
        ),
        ({"email": "ok@example.com", "password": PASSWORD, "id": str(uuid.uuid4())}, "id"),
        ({"email": "ok@example.com", "password": PASSWORD, "is_admin": True}, "is_admin"),
        ({"email": "ok@example.com"}, "password"),
        ({"email": 5, "password": PASSWORD}, "email"),
    ],
)
async def test_register_validation_is_422_with_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = await client.post(REGISTER, json=body)
    error = assert_error(response, 422, "VALIDATION_ERROR")["error"]
    assert error["details"][0]["field"] == field
    assert error["details"][0]["message"]


async def test_password_bounds_are_inclusive(client: Client) -> None:
    for password in ("x" * 12, "é" * 128):
        response = await client.post(REGISTER, json={"email": unique_email(), "password": password})
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "BAD_REQUEST"),
        (b"", 400, "BAD_REQUEST"),
        (b"[1, 2]", 400, "BAD_REQUEST"),
        (b'"a string"', 400, "BAD_REQUEST"),
        (b"\xff\xfe", 400, "BAD_REQUEST"),
    ],
)
async def test_malformed_bodies_are_400(
    client: Client, content: bytes, status: int, code: str
) -> None:
    response = await client.post(
        REGISTER, content=content, headers={"Content-Type": "application/json"}
    )
    assert_error(response, status, code)


async def test_non_json_content_type_is_415(client: Client) -> None:
    response = await client.post(
        REGISTER, content=b"email=a", headers={"Content-Type": "text/plain"}
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_oversized_body_is_413(client: Client) -> None:
    response = await client.post(
        REGISTER, json={"email": "a@example.com", "password": "x" * 70_000}
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_login_returns_a_bearer_pair(client: Client) -> None:
    email = await register(client)
    response = await client.post(LOGIN, json={"email": email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["popup"] == "LOGGED_IN"
    tokens = body["data"]
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert tokens["refresh_expires_in"] == 30 * 24 * 3600
    assert len(tokens["refresh_token"]) >= 43  # 256 bits, base64url


async def test_login_accepts_the_oauth2_password_form(client: Client) -> None:
    email = await register(client)
    response = await client.post(LOGIN, data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["token_type"] == "Bearer"


async def test_login_form_without_password_is_422(client: Client) -> None:
    response = await client.post(LOGIN, data={"username": "a@example.com"})
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_unknown_email_and_wrong_password_are_indistinguishable(client: Client) -> None:
    email = await register(client)
    wrong = await client.post(LOGIN, json={"email": email, "password": "wrong password!"})
    unknown = await client.post(LOGIN, json={"email": unique_email(), "password": PASSWORD})
    for response in (wrong, unknown):
        assert_error(response, 401, "INVALID_CREDENTIALS")
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")


async def test_me_returns_the_signed_in_user(client: Client) -> None:
    headers = await signed_in(client)
    response = await client.get(ME, headers=headers)
    assert response.status_code == 200
    assert response.json()["popup"] is None
    assert set(response.json()["data"]) == {"id", "email", "display_name", "created_at"}


def _claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "iss": "taskapp",
        "aud": "taskapp-api",
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


async def _user_id(client: Client, headers: dict[str, str]) -> str:
    user_id: str = (await client.get(ME, headers=headers)).json()["data"]["id"]
    return user_id


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda s, u: jwt.encode(
                _claims(u, exp=datetime.now(UTC) - timedelta(minutes=1)), s, "HS256"
            ),
            id="expired",
        ),
        pytest.param(
            lambda s, u: jwt.encode(
                _claims(u, nbf=datetime.now(UTC) + timedelta(minutes=5)), s, "HS256"
            ),
            id="not-yet-valid",
        ),
        pytest.param(
            lambda s, u: jwt.encode(_claims(u), "another-key-of-at-least-32-bytes!!", "HS256"),
            id="wrong-key",
        ),
        pytest.param(lambda s, u: jwt.encode(_claims(u), s, "HS512"), id="wrong-algorithm"),
        pytest.param(lambda s, u: jwt.encode(_claims(u), None, "none"), id="alg-none"),
        pytest.param(
            lambda s, u: jwt.encode(_claims(u, aud="someone-else"), s, "HS256"), id="wrong-audience"
        ),
        pytest.param(
            lambda s, u: jwt.encode(_claims(u, iss="evil"), s, "HS256"), id="wrong-issuer"
        ),
        pytest.param(
            lambda s, u: jwt.encode(_claims(u, typ="refresh"), s, "HS256"), id="wrong-type"
        ),
        pytest.param(lambda s, u: jwt.encode(_claims(u, jti=None), s, "HS256"), id="missing-jti"),
        pytest.param(lambda s, u: jwt.encode(_claims(u, exp=None), s, "HS256"), id="missing-exp"),
        pytest.param(lambda s, u: jwt.encode(_claims("not-a-uuid"), s, "HS256"), id="bad-subject"),
        pytest.param(lambda s, u: "not.a.jwt", id="garbage"),
    ],
)
async def test_bad_access_tokens_are_401_with_www_authenticate(
    client: Client, settings: Settings, forge: Any
) -> None:
    user_id = await _user_id(client, await signed_in(client))
    token = forge(settings.jwt_secret, user_id)
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_well_forged_token_with_the_real_key_is_accepted(
    client: Client, settings: Settings
) -> None:
    """Guards the test above: its forgeries fail for the reason named, not by accident."""
    user_id = await _user_id(client, await signed_in(client))
    token = jwt.encode(_claims(user_id), settings.jwt_secret, "HS256")
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_tampered_token_is_401(client: Client) -> None:
    headers = await signed_in(client)
    token = headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    response = await client.get(ME, headers={"Authorization": f"Bearer {tampered}"})
    assert_error(response, 401, "UNAUTHORIZED")


@pytest.mark.parametrize("value", [None, "", "Bearer", "Bearer ", "Basic abc", "Token x"])
async def test_missing_or_malformed_authorization_is_401(client: Client, value: str | None) -> None:
    headers = {} if value is None else {"Authorization": value}
    response = await client.get(ME, headers=headers)
    assert_error(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_refresh_token_used_as_access_token_is_401(client: Client) -> None:
    tokens = await login(client, await register(client))
    response = await client.get(ME, headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert_error(response, 401, "UNAUTHORIZED")


async def test_refresh_rotates_and_reuse_revokes_the_family(client: Client) -> None:
    first = await login(client, await register(client))
    response = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    second = response.json()["data"]
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        await client.get(ME, headers={"Authorization": f"Bearer {second['access_token']}"})
    ).status_code == 200

    reused = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert_error(reused, 401, "TOKEN_REUSED")
    after = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert_error(after, 401, "UNAUTHORIZED")


async def test_unknown_refresh_token_is_401(client: Client) -> None:
    response = await client.post(REFRESH, json={"refresh_token": "never-issued"})
    assert_error(response, 401, "UNAUTHORIZED")


async def test_concurrent_refreshes_let_exactly_one_succeed(client: Client) -> None:
    tokens = await login(client, await register(client))
    body = {"refresh_token": tokens["refresh_token"]}
    responses = await asyncio.gather(*(client.post(REFRESH, json=body) for _ in range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401, 401, 401, 401, 401]


async def test_logout_revokes_the_family_and_needs_a_token(client: Client) -> None:
    email = await register(client)
    tokens = await login(client, email)
    other_device = await login(client, email)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}

    unauthenticated = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})
    assert_error(unauthenticated, 401, "UNAUTHORIZED")

    response = await client.post(
        LOGOUT, json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["popup"] == "LOGGED_OUT"
    revoked = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert revoked.status_code == 401
    still = await client.post(REFRESH, json={"refresh_token": other_device["refresh_token"]})
    assert still.status_code == 200

    again = await client.post(
        LOGOUT, json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert again.status_code == 200  # logging out twice is harmless


async def test_password_change(client: Client) -> None:
    email = await register(client)
    tokens = await login(client, email)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    new_password = "a brand new passphrase"

    wrong = await client.post(
        PASSWORD_ROUTE,
        json={"current_password": "not my password", "new_password": new_password},
        headers=headers,
    )
    assert_error(wrong, 401, "INVALID_CREDENTIALS")
    short = await client.post(
        PASSWORD_ROUTE,
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=headers,
    )
    assert (
        assert_error(short, 422, "VALIDATION_ERROR")["error"]["details"][0]["field"]
        == "new_password"
    )

    response = await client.post(
        PASSWORD_ROUTE,
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["popup"] == "PASSWORD_CHANGED"
    revoked = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert revoked.status_code == 401
    old = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert_error(old, 401, "INVALID_CREDENTIALS")
    await login(client, email, new_password)


async def test_every_auth_route_is_documented_with_the_bearer_scheme(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/auth/me"]["get"]["security"] == [
        {"BearerToken": []},
        {"ApiToken": []},  # any API token may ask who it acts for
    ]
    assert document["paths"]["/api/v1/auth/password"]["post"]["security"] == [{"BearerToken": []}]
    assert "security" not in document["paths"]["/api/v1/auth/login"]["post"]
    body = document["paths"]["/api/v1/auth/register"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("RegisterRequest")
