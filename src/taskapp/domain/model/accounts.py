"""Accounts: users, their credentials and sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.text import (
    checked_text,
    contains_unstorable_text,
    normalized_identity,
    trim,
)

EMAIL_MIN_LENGTH = 3
EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
DISPLAY_NAME_MAX_LENGTH = 100

# Deliberately modest: one "@", a dot in the domain, no spaces or control characters.
# Deliverability is the mail server's business; this only catches obvious typos.
EMAIL_CORE = r"[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f.]+(\.[^@\x00-\x20\x7f.]+)+"
_EMAIL_PATTERN = re.compile(EMAIL_CORE)


def normalize_email(raw: str, field: str = "email") -> str:
    """The address as stored and shown: trimmed, otherwise as written. Accounts are told
    apart by `email_key` (see docs/decisions/0009-text-rules.md)."""
    email = trim(raw)
    if not email:
        raise ValidationFailed.of(field, "must not be empty")
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationFailed.of(field, f"must be at most {EMAIL_MAX_LENGTH} characters")
    if contains_unstorable_text(email) or not _EMAIL_PATTERN.fullmatch(email):
        raise ValidationFailed.of(field, "must be a valid email address")
    return email


def email_key(email: str) -> str:
    """The identity of an address: how uniqueness, lookups and rate limits compare it
    (NFKC and case folding, so `STRASSE@…` and `straße@…` are one account)."""
    return normalized_identity(trim(email))


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
    if raw is None or not (name := trim(raw)):
        return None
    return checked_text(name, "display_name", DISPLAY_NAME_MAX_LENGTH)


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
