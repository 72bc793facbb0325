"""Test doubles for ports that have no in-memory adapter of their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class FixedClock:
    current: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class PlainHasher:
    """Reversible and instant: the use cases' logic is under test, not Argon2."""

    def __init__(self) -> None:
        self.outdated: set[str] = set()

    async def hash(self, password: str) -> str:
        return f"plain:{password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"plain:{password}"

    def needs_rehash(self, password_hash: str) -> bool:
        return password_hash in self.outdated

    def has_capacity(self) -> bool:
        return True
