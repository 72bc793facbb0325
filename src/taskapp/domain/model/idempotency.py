"""Idempotency keys: a keyed create runs once, and its first answer is replayed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.tasks import Task

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
IDEMPOTENCY_KEY_MAX_LENGTH = 255


def check_idempotency_key(key: str) -> str:
    printable_ascii = all(" " <= ch <= "~" for ch in key)
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not printable_ascii:
        raise ValidationFailed.of(
            "idempotency_key",
            f"must be 1-{IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters",
        )
    return key


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"  # this request owns the key: go ahead
    REPLAY = "replay"  # done before with the same body: answer with `task`
    IN_PROGRESS = "in_progress"  # another request with the key is still running
    MISMATCH = "mismatch"  # the key was used with a different body


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    status: ClaimStatus
    task: Task | None = None
