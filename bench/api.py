"""The few API calls the benchmark makes itself: register, log in, create an API token."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

import httpx

_TIMEOUT_SECONDS = 30
# A login flood leaves Argon2 work queued in the server after wrk has gone (the server
# finishes requests whose clients left); until it drains, logins may answer 503.
_LOGIN_PATIENCE_SECONDS = 180


@dataclass(frozen=True, slots=True)
class Account:
    email: str
    password: str
    user_id: UUID


class ApiError(RuntimeError):
    pass


class Api:
    def __init__(self, base_url: str) -> None:
        self._client = httpx.Client(base_url=base_url + "/api/v1", timeout=_TIMEOUT_SECONDS)
        self._api_tokens: dict[tuple[UUID, tuple[str, ...]], str] = {}

    def close(self) -> None:
        self._client.close()

    def _post(
        self,
        path: str,
        body: Mapping[str, object],
        expected: int,
        patience: float = 0,
        headers: dict[str, str] | None = None,
    ) -> dict[str, object]:
        deadline = time.monotonic() + patience
        response = self._client.post(path, json=body, headers=headers)
        while response.status_code == 503 and time.monotonic() < deadline:
            time.sleep(1)
            response = self._client.post(path, json=body, headers=headers)
        if response.status_code != expected:
            raise ApiError(f"POST {path} answered {response.status_code}: {response.text[:300]}")
        data: dict[str, object] = response.json()["data"]
        return data

    def register(self, email: str, password: str) -> Account:
        data = self._post("/auth/register", {"email": email, "password": password}, 201)
        return Account(email, password, UUID(str(data["id"])))

    def login(self, account: Account) -> str:
        """An access token. Returning also means the server's queue of logins has drained:
        this one waited behind every login still queued."""
        body = {"email": account.email, "password": account.password}
        data = self._post("/auth/login", body, 200, patience=_LOGIN_PATIENCE_SECONDS)
        return str(data["access_token"])

    def api_token(self, account: Account, scopes: tuple[str, ...]) -> str:
        """An API token (`tat_...`) of the account with `scopes`, created through the API the
        way a service gets one: once per account and scopes in a run (50 per user at most)."""
        key = (account.user_id, scopes)
        if key not in self._api_tokens:
            session = {"Authorization": f"Bearer {self.login(account)}"}
            body: dict[str, object] = {"name": "bench", "scopes": list(scopes)}
            data = self._post("/auth/tokens", body, 201, headers=session)
            self._api_tokens[key] = str(data["token"])
        return self._api_tokens[key]
