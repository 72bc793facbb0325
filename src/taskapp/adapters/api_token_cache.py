"""Verified API tokens in memory, so the request path needs no database round trip.

Entries are keyed by the token's hash and dropped by the token's id when a revocation
notice arrives (see adapters/postgres/api_tokens.py). How long an entry is trusted depends
on whether those notices are known to arrive:

- *trusted* (the listener is connected and its own pings come back): up to `ttl` seconds.
  The TTL is only a backstop for a row deleted in a way that sends no notice.
- *untrusted* (no listener yet, or it is down): at most `untrusted_ttl` seconds, so a
  revocation still takes effect within a few seconds everywhere.

Turning trusted empties the cache: notices sent while nobody listened are lost, so nothing
remembered from before can be vouched for.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from taskapp.domain.model.api_tokens import ApiToken

DEFAULT_TTL_SECONDS = 60.0
DEFAULT_UNTRUSTED_TTL_SECONDS = 2.0
DEFAULT_MAX_ENTRIES = 10_000


class ApiTokenCache:
    def __init__(
        self,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        untrusted_ttl_seconds: float = DEFAULT_UNTRUSTED_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._untrusted_ttl = untrusted_ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[ApiToken, float]] = OrderedDict()
        self._hash_by_id: dict[UUID, str] = {}
        self._trusted = False
        # Bumped by every forget: a lookup that started before a revocation must not put
        # what it read (the row before the delete) into the cache after it.
        self._generation = 0

    @property
    def trusted(self) -> bool:
        return self._trusted

    @property
    def generation(self) -> int:
        return self._generation

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token_hash: str) -> ApiToken | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        token, stored_at = entry
        max_age = self._ttl if self._trusted else self._untrusted_ttl
        if self._monotonic() - stored_at >= max_age:
            self._drop(token_hash)
            return None
        return token

    def put(self, token: ApiToken, generation: int) -> None:
        """Remember `token`, read when the cache was at `generation` (see `generation`)."""
        if generation != self._generation:
            return
        self._entries[token.token_hash] = (token, self._monotonic())
        self._entries.move_to_end(token.token_hash)
        self._hash_by_id[token.id] = token.token_hash
        while len(self._entries) > self._max_entries:
            _, (evicted, _) = self._entries.popitem(last=False)
            self._hash_by_id.pop(evicted.id, None)

    def forget(self, token_id: UUID) -> None:
        self._generation += 1
        token_hash = self._hash_by_id.pop(token_id, None)
        if token_hash is not None:
            self._entries.pop(token_hash, None)

    def trust(self) -> None:
        """Revocation notices arrive from now on: start afresh and keep entries longer."""
        self.clear()
        self._trusted = True

    def distrust(self) -> None:
        self._trusted = False

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._hash_by_id.clear()

    def _drop(self, token_hash: str) -> None:
        entry = self._entries.pop(token_hash, None)
        if entry is not None:
            self._hash_by_id.pop(entry[0].id, None)
