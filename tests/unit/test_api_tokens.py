"""API tokens in the domain (with the in-memory store), the token cache, and log redaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from taskapp.adapters.api_token_cache import ApiTokenCache
from taskapp.adapters.memory.api_tokens import MemoryApiTokens
from taskapp.domain.errors import ApiTokenNotFound, LimitReached, Unauthorized, ValidationFailed
from taskapp.domain.model.api_tokens import (
    API_TOKEN_LENGTH,
    ApiToken,
    Principal,
    Scope,
    hash_api_token,
    parse_scopes,
)
from taskapp.domain.services.api_tokens import ApiTokenService
from taskapp.entrypoints.logs import redact
from tests.unit.fakes import FixedClock

KEY = b"k" * 32
ALICE, BOB = uuid.uuid4(), uuid.uuid4()


def service(
    per_user: int = 50,
) -> tuple[ApiTokenService, MemoryApiTokens, FixedClock]:
    store, clock = MemoryApiTokens(), FixedClock()
    return ApiTokenService(store, store, clock, KEY, per_user=per_user), store, clock


async def test_a_created_token_is_tat_with_256_random_bits_and_only_its_hash_is_kept() -> None:
    tokens, store, _ = service()
    issued = await tokens.create(ALICE, "  ci  ", ["tasks:read", "tasks:read"], None)
    assert issued.token.startswith("tat_")
    assert len(issued.token) == API_TOKEN_LENGTH == 4 + 43  # 32 bytes, URL-safe base64
    record = store.tokens[issued.record.id]
    assert record.name == "ci"
    assert record.scopes == frozenset({Scope.TASKS_READ})
    assert record.token_hash == hash_api_token(issued.token, KEY)
    assert issued.token not in repr(record)
    assert record.expires_at is None


async def test_tokens_differ_and_hashes_depend_on_the_key() -> None:
    tokens, _, _ = service()
    a = await tokens.create(ALICE, "a", ["tasks:read"], None)
    b = await tokens.create(ALICE, "b", ["tasks:read"], None)
    assert a.token != b.token
    assert hash_api_token(a.token, KEY) != hash_api_token(a.token, b"other" * 8)


async def test_authenticate_gives_the_owner_and_the_scopes() -> None:
    tokens, _, _ = service()
    issued = await tokens.create(ALICE, "ci", ["tasks:read", "stats:read"], 30)
    principal = await tokens.authenticate(issued.token)
    assert principal == Principal(
        ALICE, issued.record.id, frozenset({Scope.TASKS_READ, Scope.STATS_READ})
    )
    assert principal.allows(Scope.STATS_READ)
    assert not principal.allows(Scope.TASKS_WRITE)
    assert principal.rate_limit_key == f"token:{issued.record.id}"
    assert issued.token not in principal.rate_limit_key


def test_a_session_may_do_everything() -> None:
    session = Principal(ALICE)
    assert all(session.allows(scope) for scope in Scope)
    assert not session.is_api_token
    assert session.rate_limit_key == f"user:{ALICE}"


@pytest.mark.parametrize(
    "presented",
    [
        "tat_" + "A" * 43,  # well-formed, unknown
        "tat_short",
        "tat_" + "A" * 44,
        "",
        "eyJhbGciOiJIUzI1NiJ9.e30.sig",
    ],
)
async def test_unknown_or_malformed_tokens_are_unauthorized(presented: str) -> None:
    tokens, _, _ = service()
    with pytest.raises(Unauthorized):
        await tokens.authenticate(presented)


async def test_an_expired_token_is_unauthorized_from_its_expiry_on() -> None:
    tokens, _, clock = service()
    issued = await tokens.create(ALICE, "ci", ["tasks:read"], 1)
    assert issued.record.expires_at == clock.now() + timedelta(days=1)
    clock.advance(days=1, seconds=-1)
    await tokens.authenticate(issued.token)
    clock.advance(seconds=1)
    with pytest.raises(Unauthorized):
        await tokens.authenticate(issued.token)


async def test_a_revoked_token_is_unauthorized_and_another_users_id_is_not_found() -> None:
    tokens, _, _ = service()
    issued = await tokens.create(ALICE, "ci", ["tasks:read"], None)
    with pytest.raises(ApiTokenNotFound):
        await tokens.revoke(BOB, issued.record.id)  # someone else's: like a missing one
    await tokens.authenticate(issued.token)
    await tokens.revoke(ALICE, issued.record.id)
    with pytest.raises(Unauthorized):
        await tokens.authenticate(issued.token)
    with pytest.raises(ApiTokenNotFound):
        await tokens.revoke(ALICE, issued.record.id)


async def test_at_most_the_limit_per_user() -> None:
    tokens, _, _ = service(per_user=3)
    for n in range(3):
        await tokens.create(ALICE, f"t{n}", ["tasks:read"], None)
    with pytest.raises(LimitReached):
        await tokens.create(ALICE, "one too many", ["tasks:read"], None)
    await tokens.create(BOB, "bob's first", ["tasks:read"], None)  # per user
    first = (await tokens.list_for(ALICE))[0]
    await tokens.revoke(ALICE, first.id)
    await tokens.create(ALICE, "room again", ["tasks:read"], None)


@pytest.mark.parametrize(
    ("name", "scopes", "days", "field"),
    [
        ("", ["tasks:read"], None, "name"),
        ("   ", ["tasks:read"], None, "name"),
        ("x" * 101, ["tasks:read"], None, "name"),
        ("nul\x00", ["tasks:read"], None, "name"),
        ("ci", [], None, "scopes"),
        ("ci", ["tasks:admin"], None, "scopes"),
        ("ci", ["TASKS:READ"], None, "scopes"),
        ("ci", ["tasks:read"], 0, "expires_in_days"),
        ("ci", ["tasks:read"], 3651, "expires_in_days"),
    ],
)
async def test_invalid_input_is_refused(
    name: str, scopes: list[str], days: int | None, field: str
) -> None:
    tokens, store, _ = service()
    with pytest.raises(ValidationFailed) as caught:
        await tokens.create(ALICE, name, scopes, days)
    assert caught.value.details[0].field == field
    assert not store.tokens


def test_every_scope_of_the_contract_and_no_other() -> None:
    assert {scope.value for scope in Scope} == {
        "tasks:read",
        "tasks:write",
        "history:read",
        "stats:read",
        "exports:read",
        "events:read",
        "webhooks:manage",
        "reviews:write",
    }
    assert parse_scopes(["history:read"]) == frozenset({Scope.HISTORY_READ})


async def test_use_is_recorded_at_most_once_a_minute_per_token() -> None:
    tokens, store, clock = service()
    a = await tokens.create(ALICE, "a", ["tasks:read"], None)
    b = await tokens.create(ALICE, "b", ["tasks:read"], None)
    for _ in range(5):
        await tokens.authenticate(a.token)
        await tokens.authenticate(b.token)
        clock.advance(seconds=10)
    assert [token_id for token_id, _ in store.uses] == [a.record.id, b.record.id]
    clock.advance(seconds=10)  # a minute after the first use
    await tokens.authenticate(a.token)
    assert len(store.uses) == 3
    assert store.tokens[a.record.id].last_used_at == clock.now()


# The cache in front of the PostgreSQL store.


def _token(token_hash: str = "h1") -> ApiToken:  # noqa: S107 - a made-up hash
    return ApiToken(
        uuid.uuid4(),
        ALICE,
        "ci",
        token_hash,
        frozenset({Scope.TASKS_READ}),
        datetime(2026, 1, 1, tzinfo=UTC),
    )


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_trusts_entries_briefly_until_revocations_are_known_to_arrive() -> None:
    ticks = Ticks()
    cache = ApiTokenCache(ttl_seconds=60, untrusted_ttl_seconds=2, monotonic=ticks)
    token = _token()
    cache.put(token, cache.generation)
    assert cache.get("h1") == token
    ticks.now += 2
    assert cache.get("h1") is None  # no listener: two seconds at most

    cache.trust()
    cache.put(token, cache.generation)
    ticks.now += 59
    assert cache.get("h1") == token
    ticks.now += 1
    assert cache.get("h1") is None

    cache.put(token, cache.generation)
    ticks.now += 3
    cache.distrust()  # the listener went down: old entries are no longer vouched for
    assert cache.get("h1") is None


def test_turning_trusted_forgets_what_was_cached_before() -> None:
    cache = ApiTokenCache()
    cache.put(_token(), cache.generation)
    cache.trust()
    assert cache.get("h1") is None


def test_forget_drops_by_id_and_a_lookup_older_than_it_is_not_cached() -> None:
    cache = ApiTokenCache()
    cache.trust()
    token = _token()
    cache.put(token, cache.generation)
    cache.forget(token.id)
    assert cache.get("h1") is None

    started = cache.generation  # a lookup reads the row ...
    cache.forget(token.id)  # ... the token is revoked meanwhile ...
    cache.put(token, started)  # ... and what it read must not be remembered
    assert cache.get("h1") is None


def test_the_cache_is_bounded() -> None:
    cache = ApiTokenCache(max_entries=3)
    tokens = [_token(f"h{n}") for n in range(5)]
    for token in tokens:
        cache.put(token, cache.generation)
    assert len(cache) == 3
    assert cache.get("h0") is None
    assert cache.get("h4") == tokens[4]
    cache.forget(tokens[0].id)  # evicted already: nothing breaks


# Redaction.


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer {token}",
        '{{"token": "{token}"}}',
        "GET /api/v1/tasks?access={token} 401",
        "token {token} was rejected",
        "({token})",
    ],
)
def test_api_tokens_are_redacted_from_every_log_line(line: str) -> None:
    token = "tat_" + "Ab3_-" * 8 + "xyz"
    text = line.format(token=token)
    redacted = redact(text)
    assert "tat_Ab3" not in redacted
    assert "Ab3_-Ab3" not in redacted


def test_redaction_leaves_words_that_merely_contain_tat_alone() -> None:
    assert redact("stat_collector_interval=5 workers") == "stat_collector_interval=5 workers"
