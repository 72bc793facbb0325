"""/api/v1/reviews: one review per user, and the summary over everyone's."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import Review, ReviewSummary
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import CurrentUserId, Reviews
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import Comment, Rating
from taskapp.entrypoints.http.openapi import BEARER, answers, documents_body
from taskapp.entrypoints.http.scopes import Access, Scope


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    # JSON Schema counts 3.0 as an integer; so do we. 3.5, "5" and true are not.
    rating: Rating | float
    comment: Comment | None = None

    __schema_patch__: ClassVar[dict[str, Any]] = {
        "properties": {"rating": {"type": "integer", "minimum": 1, "maximum": 5}}
    }

    def whole_rating(self) -> int:
        if isinstance(self.rating, float):
            if not self.rating.is_integer():
                raise ValidationFailed.of("rating", "must be a whole number from 1 to 5")
            return int(self.rating)
        return self.rating


class ReviewOut(msgspec.Struct):
    id: UUID
    rating: int
    comment: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, review: Review) -> ReviewOut:
        return cls(review.id, review.rating, review.comment, review.created_at, review.updated_at)


class SummaryOut(msgspec.Struct):
    count: int
    average_rating: float
    distribution: dict[str, int]

    @classmethod
    def of(cls, summary: ReviewSummary) -> SummaryOut:
        return cls(
            count=summary.count,
            average_rating=summary.average_rating,
            distribution={str(n): summary.distribution.get(n, 0) for n in range(1, 6)},
        )


class ReviewController(Controller):
    path = "/reviews"
    tags = ["reviews"]
    security = BEARER

    @post(
        "/",
        status_code=201,
        scope=Scope.REVIEWS_WRITE,
        opt={
            **documents_body(ReviewIn, popups=("REVIEW_SUBMITTED", "REVIEW_UPDATED")),
            "also_200": True,
        },
    )
    async def submit_review(
        self, request: Request[Any, Any, Any], reviews: Reviews, user_id: CurrentUserId
    ) -> Response[Envelope[ReviewOut]]:
        """Submit your review (201) or change it (200): one review per user."""
        body = await read_json(request, ReviewIn)
        submitted = await reviews.submit(user_id, body.whole_rating(), body.comment)
        if submitted.created:
            return ok(ReviewOut.of(submitted.review), popup="REVIEW_SUBMITTED", status_code=201)
        return ok(ReviewOut.of(submitted.review), popup="REVIEW_UPDATED")

    @get(
        "/me",
        scope=Scope.REVIEWS_WRITE,
        operation_id="getMyReview",
        opt=answers(errors=("REVIEW_NOT_FOUND",)),
    )
    async def my_review(
        self, reviews: Reviews, user_id: CurrentUserId
    ) -> Response[Envelope[ReviewOut]]:
        """Your review, or 404 REVIEW_NOT_FOUND."""
        return ok(ReviewOut.of(await reviews.mine(user_id)))

    @get("/summary", scope=Access.SIGNED_IN, operation_id="getReviewSummary")
    async def summary(
        self, reviews: Reviews, user_id: CurrentUserId
    ) -> Response[Envelope[SummaryOut]]:
        """Count, average (two decimals) and distribution over all users' reviews."""
        del user_id  # signed-in users only, but the summary is everyone's
        return ok(SummaryOut.of(await reviews.summary()))
