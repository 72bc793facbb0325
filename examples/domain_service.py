"""Another service using taskapp's domain: `pip install taskapp-domain`, nothing else.

It brings its own adapters (here: a review store in a dict and a fixed clock) and calls
the use cases and entity rules directly. The in-memory adapters of the taskapp server
(taskapp.adapters.memory) are not in the package: they need the server's own libraries.
Run it: python examples/domain_service.py
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from uuid import UUID

from taskapp.domain.errors import DomainError, ReviewNotFound
from taskapp.domain.model import Review, ReviewSummary, Task
from taskapp.domain.services.reviews import ReviewService


class FixedClock:
    """The Clock port: whatever `now` says."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


class DictReviewStore:
    """The ReviewStore port, one review per user, in a dict."""

    def __init__(self) -> None:
        self._by_user: dict[UUID, Review] = {}

    async def upsert(self, review: Review) -> tuple[Review, bool]:
        existing = self._by_user.get(review.user_id)
        if existing is not None:
            review = Review(
                existing.id,
                review.user_id,
                review.rating,
                review.comment,
                existing.created_at,
                review.updated_at,
            )
        self._by_user[review.user_id] = review
        return review, existing is None

    async def get(self, user_id: UUID) -> Review | None:
        return self._by_user.get(user_id)

    async def summary(self) -> ReviewSummary:
        ratings = [review.rating for review in self._by_user.values()]
        distribution = {stars: ratings.count(stars) for stars in range(1, 6)}
        return ReviewSummary(len(ratings), sum(ratings), distribution)


async def main() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    reviews = ReviewService(DictReviewStore(), clock)
    alice, bob = uuid.uuid4(), uuid.uuid4()

    first = await reviews.submit(alice, 5, "Keeps me honest.")
    assert first.created
    again = await reviews.submit(alice, 4, None)
    assert not again.created
    assert again.review.id == first.review.id
    await reviews.submit(bob, 3, None)
    print("average rating:", (await reviews.summary()).average_rating)  # 3.5

    try:
        await reviews.mine(uuid.uuid4())
    except ReviewNotFound as error:
        print("error code:", error.code)  # the code taskapp's API answers with

    task = Task.create(alice, "  Write the report ", None, clock.now())
    assert task.title == "Write the report"  # taskapp's text rules
    done = task.complete(clock.now())
    assert done is not None
    assert done.version == 2
    assert done.complete(clock.now()) is None  # completing a completed task changes nothing
    print("task:", done.title, "completed:", done.is_completed)
    try:
        Task.create(alice, "\u2003", None, clock.now())  # an em space alone is no title
    except DomainError as error:
        print("refused:", error.code)


if __name__ == "__main__":
    asyncio.run(main())
