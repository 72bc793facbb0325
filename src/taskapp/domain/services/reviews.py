"""Reviews: one per user, created or updated by the same call; a public summary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from taskapp.domain.errors import ReviewNotFound
from taskapp.domain.model import Review, ReviewSummary, check_rating, normalize_comment
from taskapp.domain.ports import Clock, ReviewStore


@dataclass(frozen=True, slots=True)
class Submitted:
    review: Review
    created: bool


class ReviewService:
    def __init__(self, store: ReviewStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def submit(self, user_id: UUID, rating: int, comment: str | None) -> Submitted:
        now = self._clock.now()
        review = Review(
            uuid.uuid4(), user_id, check_rating(rating), normalize_comment(comment), now, now
        )
        stored, created = await self._store.upsert(review)
        return Submitted(stored, created)

    async def mine(self, user_id: UUID) -> Review:
        review = await self._store.get(user_id)
        if review is None:
            raise ReviewNotFound
        return review

    async def summary(self) -> ReviewSummary:
        return await self._store.summary()
