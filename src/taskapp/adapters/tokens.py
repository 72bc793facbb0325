"""JWT access tokens (PyJWT, algorithm pinned) and opaque refresh tokens (hashed at rest)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta
from uuid import UUID

import jwt

from taskapp.adapters.clock import SystemClock
from taskapp.domain.errors import Unauthorized
from taskapp.domain.model import AccessToken
from taskapp.domain.ports import Clock

_ALGORITHM = "HS256"
_ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
_REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "iss", "aud", "jti", "typ"]
_LEEWAY = timedelta(seconds=10)
_VERIFIED_CACHE_SIZE = 10_000


class JwtTokenService:
    def __init__(
        self,
        secret: str,
        issuer: str,
        audience: str,
        access_ttl: timedelta,
        clock: Clock | None = None,
    ) -> None:
        if len(secret.encode()) < 32:
            raise ValueError("the JWT secret must be at least 32 bytes")
        self._clock = clock or SystemClock()
        # Tokens that passed the signature and claim checks, most recent last. Bounded; a
        # tampered token never verifies, so it never gets in.
        self._verified: OrderedDict[str, tuple[UUID, float, float]] = OrderedDict()
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._access_ttl = access_ttl

    def issue_access_token(self, user_id: UUID, now: datetime) -> AccessToken:
        claims = {
            "sub": str(user_id),
            "iat": now,
            "nbf": now,
            "exp": now + self._access_ttl,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
            "typ": _ACCESS_TOKEN_TYPE,
        }
        token = jwt.encode(claims, self._secret, algorithm=_ALGORITHM)
        return AccessToken(token, int(self._access_ttl.total_seconds()))

    def verify_access_token(self, token: str) -> UUID:
        cached = self._verified.get(token)
        if cached is not None:  # signature and claims checked before; time is checked now
            user_id, not_before, expires = cached
            self._check_time(not_before, expires)
            self._verified.move_to_end(token)
            return user_id
        user_id, not_before, expires = self._verify_signature_and_claims(token)
        self._check_time(not_before, expires)
        self._verified[token] = (user_id, not_before, expires)
        if len(self._verified) > _VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return user_id

    def _check_time(self, not_before: float, expires: float) -> None:
        now = self._clock.now().timestamp()
        leeway = _LEEWAY.total_seconds()
        if not not_before - leeway <= now < expires + leeway:
            raise Unauthorized("The access token is expired or not yet valid")

    def _verify_signature_and_claims(self, token: str) -> tuple[UUID, float, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                # Time claims are checked against our Clock (see _check_time), not the
                # process clock.
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            if claims["typ"] != _ACCESS_TOKEN_TYPE:
                raise Unauthorized("The token is not an access token")
            return UUID(claims["sub"]), float(claims["nbf"]), float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError, AttributeError) as error:
            raise Unauthorized("The access token is invalid or expired") from error

    def new_refresh_token(self) -> str:
        return secrets.token_urlsafe(32)  # 256 bits

    def hash_refresh_token(self, token: str) -> str:
        # The token carries 256 random bits: a plain SHA-256 is enough, no salt or stretching.
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
