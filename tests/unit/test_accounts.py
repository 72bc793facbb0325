"""Account use cases on the in-memory adapters."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from taskapp.adapters.memory.adapters import MemoryAdapters
from taskapp.adapters.memory.rate_limiter import MemoryRateLimiter
from taskapp.adapters.tokens import JwtTokenService
from taskapp.domain.errors import (
    EmailAlreadyRegistered,
    InvalidCredentials,
    RateLimited,
    TokenReused,
    Unauthorized,
    ValidationFailed,
)
from taskapp.domain.services.accounts import AccountService, RateLimitPolicy
from tests.unit.fakes import FixedClock, PlainHasher

PASSWORD = "twelve chars!"
ADDRESS = "198.51.100.1"


class World:
    def __init__(self, policy: RateLimitPolicy | None = None) -> None:
        self.clock = FixedClock()
        self.memory = MemoryAdapters()
        self.hasher = PlainHasher()
        self.tokens = JwtTokenService(
            "k" * 32, "taskapp", "taskapp-api", timedelta(minutes=15), self.clock
        )
        self.accounts = AccountService(
            uow=self.memory.accounts_unit,
            reads=self.memory.account_reads,
            hasher=self.hasher,
            tokens=self.tokens,
            clock=self.clock,
            rate_limiter=MemoryRateLimiter(self.clock),
            rate_limits=policy or RateLimitPolicy(enabled=False),
            refresh_ttl=timedelta(days=30),
        )


@pytest.fixture
def world() -> World:
    return World()


async def test_register_trims_email_and_stores_only_a_hash(world: World) -> None:
    user = await world.accounts.register("  Ada@Example.com ", PASSWORD, " Ada ", ADDRESS)
    assert user.email == "Ada@Example.com"
    assert user.display_name == "Ada"
    assert user.password_hash != PASSWORD


async def test_register_rejects_a_duplicate_in_another_letter_case(world: World) -> None:
    await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    with pytest.raises(EmailAlreadyRegistered):
        await world.accounts.register("ADA@EXAMPLE.COM", PASSWORD, None, ADDRESS)


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", PASSWORD, "email"),
        ("a@b", PASSWORD, "email"),
        ("", PASSWORD, "email"),
        ("ada@example.com", "x" * 11, "password"),
        ("ada@example.com", "x" * 129, "password"),
        ("ada@example.com", "twelve chars\x00", "password"),
    ],
)
async def test_register_validates(world: World, email: str, password: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await world.accounts.register(email, password, None, ADDRESS)
    assert raised.value.details[0].field == field


async def test_password_length_bounds_are_inclusive(world: World) -> None:
    await world.accounts.register("a@example.com", "x" * 12, None, ADDRESS)
    await world.accounts.register("b@example.com", "x" * 128, None, ADDRESS)


async def test_login_with_any_letter_case_issues_a_verifiable_pair(world: World) -> None:
    user = await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    pair = await world.accounts.login("ADA@example.com", PASSWORD, ADDRESS)
    assert world.tokens.verify_access_token(pair.access_token) == user.id
    assert pair.expires_in == 900
    assert pair.refresh_expires_in == 30 * 24 * 3600


async def test_unknown_email_and_wrong_password_fail_alike(world: World) -> None:
    await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    with pytest.raises(InvalidCredentials) as wrong_password:
        await world.accounts.login("ada@example.com", "wrong password!", ADDRESS)
    with pytest.raises(InvalidCredentials) as unknown:
        await world.accounts.login("bob@example.com", PASSWORD, ADDRESS)
    assert wrong_password.value.message == unknown.value.message


async def test_login_rehashes_an_outdated_hash(world: World) -> None:
    user = await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    world.hasher.outdated.add(user.password_hash)
    world.clock.advance(minutes=1)
    await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)
    stored = world.memory.store.users[user.id]
    assert stored.updated_at == world.clock.now()


async def test_refresh_rotates_and_a_spent_token_revokes_the_family(world: World) -> None:
    await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    first = await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)
    second = await world.accounts.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    with pytest.raises(TokenReused):
        await world.accounts.refresh(first.refresh_token)
    with pytest.raises(Unauthorized):  # the family, including the newest token, is revoked
        await world.accounts.refresh(second.refresh_token)


async def test_concurrent_refreshes_of_one_token_let_exactly_one_win(world: World) -> None:
    await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    pair = await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)
    results = await asyncio.gather(
        *(world.accounts.refresh(pair.refresh_token) for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1


async def test_expired_and_unknown_refresh_tokens_are_unauthorized(world: World) -> None:
    await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    pair = await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)
    with pytest.raises(Unauthorized):
        await world.accounts.refresh("never-issued")
    world.clock.advance(days=31)
    with pytest.raises(Unauthorized) as raised:
        await world.accounts.refresh(pair.refresh_token)
    assert not isinstance(raised.value, TokenReused)


async def test_logout_revokes_only_that_family(world: World) -> None:
    user = await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    phone = await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)
    laptop = await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)
    await world.accounts.logout(user.id, phone.refresh_token)
    with pytest.raises(Unauthorized):
        await world.accounts.refresh(phone.refresh_token)
    await world.accounts.refresh(laptop.refresh_token)


async def test_logout_ignores_someone_elses_token(world: World) -> None:
    ada = await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    await world.accounts.register("bob@example.com", PASSWORD, None, ADDRESS)
    bobs = await world.accounts.login("bob@example.com", PASSWORD, ADDRESS)
    await world.accounts.logout(ada.id, bobs.refresh_token)
    await world.accounts.refresh(bobs.refresh_token)


async def test_password_change_needs_the_current_one_and_revokes_every_family(
    world: World,
) -> None:
    user = await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    pairs = [await world.accounts.login("ada@example.com", PASSWORD, ADDRESS) for _ in range(2)]
    with pytest.raises(InvalidCredentials):
        await world.accounts.change_password(user.id, "not the password", "a new password!")
    await world.accounts.change_password(user.id, PASSWORD, "a new password!")
    for pair in pairs:
        with pytest.raises(Unauthorized):
            await world.accounts.refresh(pair.refresh_token)
    with pytest.raises(InvalidCredentials):
        await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)
    await world.accounts.login("ada@example.com", "a new password!", ADDRESS)


async def test_rate_limits_per_email_and_per_address() -> None:
    world = World(RateLimitPolicy(enabled=True, window_seconds=60, per_address=5, per_email=2))
    await world.accounts.register("ada@example.com", PASSWORD, None, ADDRESS)
    with pytest.raises(InvalidCredentials):
        await world.accounts.login("ada@example.com", "wrong password!", ADDRESS)
    await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)
    with pytest.raises(RateLimited) as raised:
        await world.accounts.login("ADA@example.com", PASSWORD, ADDRESS)
    assert 1 <= raised.value.retry_after_seconds <= 60
    for n in range(2):  # other emails from the same address, until the address is spent
        with pytest.raises(InvalidCredentials):
            await world.accounts.login(f"other{n}@example.com", PASSWORD, ADDRESS)
    with pytest.raises(RateLimited):
        await world.accounts.login("fresh@example.com", PASSWORD, ADDRESS)
    world.clock.advance(seconds=60)
    await world.accounts.login("ada@example.com", PASSWORD, ADDRESS)


async def test_emails_are_one_account_under_unicode_case_folding(world: World) -> None:
    """Issue 13: `straße@…` and `STRASSE@…` were two accounts (simple lowercasing)."""
    user = await world.accounts.register("straße@example.com", PASSWORD, None, ADDRESS)
    with pytest.raises(EmailAlreadyRegistered):
        await world.accounts.register("STRASSE@example.com", PASSWORD, None, ADDRESS)
    pair = await world.accounts.login("Strasse@Example.com", PASSWORD, ADDRESS)
    assert world.tokens.verify_access_token(pair.access_token) == user.id
