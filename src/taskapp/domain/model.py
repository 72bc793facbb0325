"""Entities and value objects: frozen dataclasses that enforce their own rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from taskapp.domain.errors import ValidationFailed

EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
DISPLAY_NAME_MAX_LENGTH = 100

# Deliberately modest: one "@", a dot in the domain, no spaces or control characters.
# Deliverability is the mail server's business; this only catches obvious typos.
_EMAIL_ATOM = r"[^@\s\x00-\x1f\x7f.]+"
_EMAIL_PATTERN = re.compile(rf"^[^@\s\x00-\x1f\x7f]+@{_EMAIL_ATOM}(\.{_EMAIL_ATOM})+$")


def contains_unstorable_text(value: str) -> bool:
    """PostgreSQL text cannot hold NUL; lone surrogates are not valid UTF-8 either."""
    return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)


def normalize_email(raw: str, field: str = "email") -> str:
    email = raw.strip()
    if not email:
        raise ValidationFailed.of(field, "must not be empty")
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationFailed.of(field, f"must be at most {EMAIL_MAX_LENGTH} characters")
    if contains_unstorable_text(email) or not _EMAIL_PATTERN.match(email):
        raise ValidationFailed.of(field, "must be a valid email address")
    return email


def email_key(email: str) -> str:
    """The case-insensitive identity of an address: how uniqueness and lookups compare it."""
    return email.strip().lower()


def check_password(password: str, field: str = "password") -> str:
    """Length is the only rule (NIST SP 800-63B): no composition rules, no truncation."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed.of(field, f"must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationFailed.of(field, f"must be at most {PASSWORD_MAX_LENGTH} characters")
    if contains_unstorable_text(password):
        raise ValidationFailed.of(field, "must not contain NUL or invalid characters")
    return password


def normalize_display_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    name = raw.strip()
    if not name:
        return None
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise ValidationFailed.of(
            "display_name", f"must be at most {DISPLAY_NAME_MAX_LENGTH} characters"
        )
    if contains_unstorable_text(name):
        raise ValidationFailed.of("display_name", "must not contain NUL or invalid characters")
    return name


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    display_name: str | None
    password_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """A stored refresh token: only its hash, never the token itself."""

    id: UUID
    user_id: UUID
    family_id: UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
