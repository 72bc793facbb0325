"""Accounts: register, log in, rotate refresh tokens, log out, change password."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from taskapp.domain.errors import (
    InvalidCredentials,
    RateLimited,
    ServiceUnavailable,
    StaleWrite,
    TokenReused,
    Unauthorized,
)
from taskapp.domain.model import (
    EMAIL_MAX_LENGTH,
    RefreshToken,
    TokenPair,
    User,
    check_password,
    contains_unstorable_text,
    email_key,
    normalize_display_name,
    normalize_email,
    trim,
)
from taskapp.domain.ports import (
    AccountReads,
    AccountsUnitOfWork,
    AccountsUnitOfWorkFactory,
    Clock,
    PasswordHasher,
    RateLimiter,
    TokenService,
)

# Verified against when the email is unknown, so both failures cost one Argon2 verify.
_DUMMY_PASSWORD = "taskapp-dummy-password-for-timing"  # noqa: S105


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    enabled: bool = True
    window_seconds: int = 60
    per_address: int = 30
    per_email: int = 10


class AccountService:
    """The account use cases, sharing one set of collaborators."""

    def __init__(
        self,
        uow: AccountsUnitOfWorkFactory,
        reads: AccountReads,
        hasher: PasswordHasher,
        tokens: TokenService,
        clock: Clock,
        rate_limiter: RateLimiter,
        rate_limits: RateLimitPolicy,
        refresh_ttl: timedelta,
    ) -> None:
        self._uow = uow
        self._reads = reads
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._rate_limiter = rate_limiter
        self._rate_limits = rate_limits
        self._refresh_ttl = refresh_ttl
        self._dummy_hash: str | None = None

    async def register(
        self, email: str, password: str, display_name: str | None, client_address: str
    ) -> User:
        email = normalize_email(email)
        check_password(password)
        display_name = normalize_display_name(display_name)
        await self._check_rate_limits("register", client_address, email)
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        user = User(uuid.uuid4(), email, display_name, password_hash, now, now)
        async with self._uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    async def login(self, email: str, password: str, client_address: str) -> TokenPair:
        if not self._hasher.has_capacity():  # a flood is refused before any database work
            raise ServiceUnavailable("Too many sign-in attempts are being processed", 1)
        await self._check_rate_limits("login", client_address, email)
        user = await self._reads.user_by_email(email) if _could_be_registered(email) else None
        if user is None:
            await self._hasher.verify(await self._get_dummy_hash(), password)
            raise InvalidCredentials
        if not await self._hasher.verify(user.password_hash, password):
            raise InvalidCredentials
        new_hash = None
        if self._hasher.needs_rehash(user.password_hash):
            new_hash = await self._hasher.hash(password)
        try:
            async with self._uow() as uow:
                # Issued only while the password is still the one just verified: a login
                # that raced a password change gets no session that outlives the change.
                pair = await self._issue_pair(
                    uow, user.id, uuid.uuid4(), verified_hash=user.password_hash
                )
                if new_hash is not None:
                    await uow.users.set_password_hash(user.id, new_hash, self._clock.now())
                await uow.commit()
        except StaleWrite:
            raise InvalidCredentials from None
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        token_hash = self._tokens.hash_refresh_token(refresh_token)
        now = self._clock.now()
        async with self._uow() as uow:
            known = await uow.refresh_tokens.find(token_hash)
            if known is None:
                raise Unauthorized("The refresh token is invalid, expired or revoked")
            await uow.users.lock(known.user_id, exclusive=False)
            spent = await uow.refresh_tokens.spend(token_hash, now)
            if spent is not None:
                pair = await self._issue_pair(uow, spent.user_id, spent.family_id)
                await uow.commit()
                return pair
            known = await uow.refresh_tokens.find(token_hash)  # as it is now, after the lock
            if known is not None and known.used_at is not None:
                await uow.refresh_tokens.revoke_family(known.family_id, now)
                await uow.commit()
                raise TokenReused
        raise Unauthorized("The refresh token is invalid, expired or revoked")

    async def logout(self, user_id: UUID, refresh_token: str) -> None:
        """Revoke the token's whole family. Unknown or foreign tokens are a silent no-op (an
        answer must not tell whether a token exists). Access tokens already issued stay
        valid until they expire (at most ACCESS_TOKEN_TTL_SECONDS), as after a password
        change: they are checked by signature, not looked up."""
        token_hash = self._tokens.hash_refresh_token(refresh_token)
        async with self._uow() as uow:
            await uow.users.lock(user_id, exclusive=True)
            known = await uow.refresh_tokens.find(token_hash)
            if known is not None and known.user_id == user_id:
                await uow.refresh_tokens.revoke_family(known.family_id, self._clock.now())
                await uow.commit()

    async def change_password(
        self, user_id: UUID, current_password: str, new_password: str
    ) -> None:
        check_password(new_password, field="new_password")
        user = await self.current_user(user_id)
        if not await self._hasher.verify(user.password_hash, current_password):
            raise InvalidCredentials("The current password is incorrect")
        new_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            now = self._clock.now()
            await uow.users.lock(user_id, exclusive=True)
            await uow.users.set_password_hash(user_id, new_hash, now)
            await uow.refresh_tokens.revoke_all_for_user(user_id, now)
            await uow.commit()

    async def current_user(self, user_id: UUID) -> User:
        user = await self._reads.user(user_id)
        if user is None:  # deleted since the token was issued
            raise Unauthorized
        return user

    async def _issue_pair(
        self,
        uow: AccountsUnitOfWork,
        user_id: UUID,
        family_id: UUID,
        verified_hash: str | None = None,
    ) -> TokenPair:
        now = self._clock.now()
        access = self._tokens.issue_access_token(user_id, now)
        refresh = self._tokens.new_refresh_token()
        await uow.refresh_tokens.add(
            RefreshToken(
                id=uuid.uuid4(),
                user_id=user_id,
                family_id=family_id,
                token_hash=self._tokens.hash_refresh_token(refresh),
                created_at=now,
                expires_at=now + self._refresh_ttl,
            ),
            password_hash=verified_hash,
        )
        return TokenPair(
            access_token=access.token,
            expires_in=access.expires_in,
            refresh_token=refresh,
            refresh_expires_in=int(self._refresh_ttl.total_seconds()),
        )

    async def _check_rate_limits(self, action: str, client_address: str, email: str) -> None:
        policy = self._rate_limits
        if not policy.enabled:
            return
        waits = [
            await self._rate_limiter.hit(
                f"{action}:addr:{client_address}", policy.per_address, policy.window_seconds
            ),
            await self._rate_limiter.hit(
                f"{action}:email:{email_key(email)}", policy.per_email, policy.window_seconds
            ),
        ]
        longest = max((wait for wait in waits if wait is not None), default=None)
        if longest is not None:
            raise RateLimited(longest)

    async def warm_up(self) -> None:
        """Compute the dummy hash up front so the first unknown-email login is not faster."""
        await self._get_dummy_hash()

    async def _get_dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(_DUMMY_PASSWORD)
        return self._dummy_hash


def _could_be_registered(email: str) -> bool:
    """Cheap screening: an address no account can have is not looked up (the database
    could not even store some of them); the caller still pays for a dummy verify."""
    stripped = trim(email)
    return 0 < len(stripped) <= EMAIL_MAX_LENGTH and not contains_unstorable_text(stripped)
