"""API tokens in memory: both ports, for unit tests and library users (no cache needed)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from taskapp.domain.model.api_tokens import ApiToken


class MemoryApiTokens:
    def __init__(self) -> None:
        self.tokens: dict[UUID, ApiToken] = {}
        self.uses: list[tuple[UUID, datetime]] = []

    async def add(self, token: ApiToken, limit: int) -> bool:
        if sum(1 for t in self.tokens.values() if t.user_id == token.user_id) >= limit:
            return False
        self.tokens[token.id] = token
        return True

    async def list_for(self, user_id: UUID) -> list[ApiToken]:
        mine = [t for t in self.tokens.values() if t.user_id == user_id]
        return sorted(mine, key=lambda t: (t.created_at, t.id))

    async def revoke(self, user_id: UUID, token_id: UUID) -> bool:
        token = self.tokens.get(token_id)
        if token is None or token.user_id != user_id:
            return False
        del self.tokens[token_id]
        return True

    async def find(self, token_hash: str) -> ApiToken | None:
        return next((t for t in self.tokens.values() if t.token_hash == token_hash), None)

    def record_use(self, token_id: UUID, at: datetime) -> None:
        self.uses.append((token_id, at))
        token = self.tokens.get(token_id)
        if token is not None:
            self.tokens[token_id] = dataclasses.replace(token, last_used_at=at)
