"""Access tokens: verified once, then remembered, but never past their expiry."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from taskapp.adapters.tokens import JwtTokenService
from taskapp.domain.errors import Unauthorized
from tests.unit.fakes import FixedClock


def service(clock: FixedClock) -> JwtTokenService:
    return JwtTokenService("k" * 32, "taskapp", "taskapp-api", timedelta(minutes=15), clock)


def test_a_remembered_token_still_expires() -> None:
    clock = FixedClock()
    tokens = service(clock)
    user = uuid.uuid4()
    token = tokens.issue_access_token(user, clock.now()).token
    assert tokens.verify_access_token(token) == user
    assert tokens.verify_access_token(token) == user  # from the cache
    clock.advance(minutes=16)
    with pytest.raises(Unauthorized):
        tokens.verify_access_token(token)


def test_a_tampered_token_is_never_remembered() -> None:
    clock = FixedClock()
    tokens = service(clock)
    token = tokens.issue_access_token(uuid.uuid4(), clock.now()).token
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(Unauthorized):
            tokens.verify_access_token(tampered)


def test_refresh_tokens_are_random_and_hashed_stably() -> None:
    tokens = service(FixedClock())
    first, second = tokens.new_refresh_token(), tokens.new_refresh_token()
    assert first != second
    assert len(first) >= 43
    assert tokens.hash_refresh_token(first) == tokens.hash_refresh_token(first)
    assert tokens.hash_refresh_token(first) != first
