"""API tokens: create, list, revoke, and authenticate a presented token.

`authenticate` is on every request that carries an API token, so it costs what the JWT
check costs: one HMAC and a lookup the adapter answers from memory in the steady state.
`last_used_at` is written at most once a minute per token (API_TOKEN_USE_RECORD_INTERVAL).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from uuid import UUID

from taskapp.domain.errors import ApiTokenNotFound, LimitReached, Unauthorized
from taskapp.domain.model.api_tokens import (
    API_TOKEN_LENGTH,
    API_TOKEN_USE_RECORD_INTERVAL,
    API_TOKENS_PER_USER,
    ApiToken,
    IssuedApiToken,
    Principal,
    check_expiry_days,
    hash_api_token,
    looks_like_api_token,
    new_api_token,
    normalize_token_name,
    parse_scopes,
)
from taskapp.domain.ports import Clock
from taskapp.domain.ports.api_tokens import ApiTokenLookup, ApiTokenStore

_USE_MEMO_MAX = 10_000


class ApiTokenService:
    def __init__(
        self,
        store: ApiTokenStore,
        lookup: ApiTokenLookup,
        clock: Clock,
        hash_key: bytes,
        per_user: int = API_TOKENS_PER_USER,
    ) -> None:
        self._store = store
        self._lookup = lookup
        self._clock = clock
        self._key = hash_key
        self._per_user = per_user
        # When this process last recorded each token's use: keeps the writes to one a minute.
        self._recorded: dict[UUID, datetime] = {}

    async def create(
        self, user_id: UUID, name: str, scopes: list[str], expires_in_days: int | None
    ) -> IssuedApiToken:
        name = normalize_token_name(name)
        granted = parse_scopes(scopes)
        days = check_expiry_days(expires_in_days)
        now = self._clock.now()
        token = new_api_token()
        record = ApiToken(
            id=uuid.uuid4(),
            user_id=user_id,
            name=name,
            token_hash=hash_api_token(token, self._key),
            scopes=granted,
            created_at=now,
            expires_at=None if days is None else now + timedelta(days=days),
        )
        if not await self._store.add(record, self._per_user):
            raise LimitReached(
                f"You already have {self._per_user} API tokens; revoke one you no longer use"
            )
        return IssuedApiToken(token, record)

    async def list_for(self, user_id: UUID) -> list[ApiToken]:
        return await self._store.list_for(user_id)

    async def revoke(self, user_id: UUID, token_id: UUID) -> None:
        """Someone else's token answers exactly like one that does not exist."""
        if not await self._store.revoke(user_id, token_id):
            raise ApiTokenNotFound
        self._recorded.pop(token_id, None)

    async def authenticate(self, token: str) -> Principal:
        """Who the token acts for; Unauthorized for a malformed, unknown, revoked or expired
        token (one answer for all: the caller learns nothing about other tokens)."""
        if len(token) != API_TOKEN_LENGTH or not looks_like_api_token(token):
            raise Unauthorized("The API token is invalid, expired or revoked")
        record = await self._lookup.find(hash_api_token(token, self._key))
        now = self._clock.now()
        if record is None or record.is_expired(now):
            raise Unauthorized("The API token is invalid, expired or revoked")
        self._note_use(record, now)
        return Principal(record.user_id, record.id, record.scopes)

    def _note_use(self, record: ApiToken, now: datetime) -> None:
        last = self._recorded.get(record.id, record.last_used_at)
        if last is not None and now - last < API_TOKEN_USE_RECORD_INTERVAL:
            return
        if len(self._recorded) >= _USE_MEMO_MAX:
            self._recorded.clear()
        self._recorded[record.id] = now
        self._lookup.record_use(record.id, now)
