"""API tokens: personal tokens with scopes, for scripts and services acting for a user.

A token is `tat_` followed by 256 random bits (43 URL-safe base64 characters). Only a keyed
hash of it is stored (docs/decisions/0011-api-tokens.md says why not Argon2); the token
itself is shown once, when it is created.

`Principal` is who a request acts for: a session (a signed-in user, full access) or an API
token (its owner, limited to the token's scopes).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.text import checked_text, trim

API_TOKEN_PREFIX = "tat_"  # noqa: S105 - a prefix, not a secret
API_TOKEN_RANDOM_BYTES = 32  # 256 bits
# token_urlsafe(32) is 43 characters; anything else is not one of ours.
API_TOKEN_LENGTH = len(API_TOKEN_PREFIX) + 43
API_TOKEN_NAME_MAX_LENGTH = 100
API_TOKENS_PER_USER = 50
API_TOKEN_EXPIRY_DAYS_MIN = 1
API_TOKEN_EXPIRY_DAYS_MAX = 3650
# `last_used_at` is written at most this often per token (not on every request).
API_TOKEN_USE_RECORD_INTERVAL = timedelta(minutes=1)


class Scope(StrEnum):
    """What an API token may do. A session (signed in with a password) may do everything."""

    TASKS_READ = "tasks:read"
    TASKS_WRITE = "tasks:write"  # tasks, lists, labels, import
    HISTORY_READ = "history:read"
    STATS_READ = "stats:read"
    EXPORTS_READ = "exports:read"
    EVENTS_READ = "events:read"  # sync, live events
    WEBHOOKS_MANAGE = "webhooks:manage"
    REVIEWS_WRITE = "reviews:write"


ALL_SCOPES: tuple[Scope, ...] = tuple(Scope)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(API_TOKEN_RANDOM_BYTES)


def looks_like_api_token(token: str) -> bool:
    """Told apart from a JWT (which starts with `eyJ`) by its prefix alone."""
    return token.startswith(API_TOKEN_PREFIX)


def hash_api_token(token: str, key: bytes) -> str:
    """HMAC-SHA256 under the server's key: fast (the token is 256 random bits, so there is
    nothing to brute-force) and useless to whoever reads the table without the key."""
    return hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def normalize_token_name(raw: str) -> str:
    name = trim(raw)
    if not name:
        raise ValidationFailed.of("name", "must not be empty")
    return checked_text(name, "name", API_TOKEN_NAME_MAX_LENGTH)


def parse_scopes(raw: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    if not raw:
        raise ValidationFailed.of("scopes", "must name at least one scope")
    known = {scope.value for scope in Scope}
    unknown = [value for value in raw if value not in known]
    if unknown:
        raise ValidationFailed.of(
            "scopes", f"unknown scope {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    return frozenset(Scope(value) for value in raw)


def check_expiry_days(days: int | None) -> int | None:
    if days is None:
        return None
    if not API_TOKEN_EXPIRY_DAYS_MIN <= days <= API_TOKEN_EXPIRY_DAYS_MAX:
        raise ValidationFailed.of(
            "expires_in_days",
            f"must be between {API_TOKEN_EXPIRY_DAYS_MIN} and {API_TOKEN_EXPIRY_DAYS_MAX}",
        )
    return days


def sorted_scopes(scopes: frozenset[Scope]) -> list[str]:
    """Scopes in their declared order: how they are stored and shown."""
    return [scope.value for scope in ALL_SCOPES if scope in scopes]


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A stored API token: its hash, never the token."""

    id: UUID
    user_id: UUID
    name: str
    token_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def use_is_worth_recording(self, now: datetime) -> bool:
        last = self.last_used_at
        return last is None or now - last >= API_TOKEN_USE_RECORD_INTERVAL


@dataclass(frozen=True, slots=True)
class IssuedApiToken:
    """A new token and its stored form: the token is shown to its owner this once."""

    token: str
    record: ApiToken


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for. `token_id` and `scopes` are None for a session: full access."""

    user_id: UUID
    token_id: UUID | None = None
    scopes: frozenset[Scope] | None = None

    @property
    def is_api_token(self) -> bool:
        return self.token_id is not None

    def allows(self, scope: Scope) -> bool:
        return self.scopes is None or scope in self.scopes

    @property
    def rate_limit_key(self) -> str:
        """What per-caller limits count: the token for an API token (never its secret),
        else the user."""
        return f"token:{self.token_id}" if self.token_id else f"user:{self.user_id}"
