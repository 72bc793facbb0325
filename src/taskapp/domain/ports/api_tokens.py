"""Ports for API tokens: where they are kept, and how a presented token is looked up."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from taskapp.domain.model.api_tokens import ApiToken


class ApiTokenStore(Protocol):
    """The owner's view: create, list and revoke."""

    async def add(self, token: ApiToken, limit: int) -> bool:
        """Store the token unless its user already holds `limit` tokens (then False). Safe
        under concurrency: two creates at the limit cannot both get in."""
        ...

    async def list_for(self, user_id: UUID) -> list[ApiToken]:
        """The user's tokens, oldest first."""
        ...

    async def revoke(self, user_id: UUID, token_id: UUID) -> bool:
        """Delete the user's token; False when the user has no such token. When this
        returns, no process accepts the token any more."""
        ...


class ApiTokenLookup(Protocol):
    """The request path's view: find a presented token by its hash, cheaply."""

    async def find(self, token_hash: str) -> ApiToken | None:
        """The stored token, or None. May answer from a cache, but never with a token that
        was revoked before the call."""
        ...

    def record_use(self, token_id: UUID, at: datetime) -> None:
        """Note that the token was used at `at` (for `last_used_at`). Returns at once: the
        write, if any, happens in the background."""
        ...
