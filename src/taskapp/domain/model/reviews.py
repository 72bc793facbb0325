"""Reviews of the app: one per user, and a public summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.text import optional_text

COMMENT_MAX_LENGTH = 2000
RATING_MIN = 1
RATING_MAX = 5


def check_rating(rating: int) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise ValidationFailed.of("rating", "must be a whole number from 1 to 5")
    if not RATING_MIN <= rating <= RATING_MAX:
        raise ValidationFailed.of("rating", "must be a whole number from 1 to 5")
    return rating


def normalize_comment(raw: str | None) -> str | None:
    return optional_text(raw, "comment", COMMENT_MAX_LENGTH)


@dataclass(frozen=True, slots=True)
class Review:
    id: UUID
    user_id: UUID
    rating: int
    comment: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    count: int
    rating_sum: int
    distribution: dict[int, int]

    @property
    def average_rating(self) -> float:
        """Rounded half up to two decimals; 0.0 when there are no reviews (ratings are 1-5,
        so 0.0 cannot be mistaken for a real average)."""
        if self.count == 0:
            return 0.0
        exact = Decimal(self.rating_sum) / Decimal(self.count)
        return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
