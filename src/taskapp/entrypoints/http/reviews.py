"""/api/v1/reviews: one review per user, and the summary over everyone's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post

from taskapp.domain.model import COMMENT_MAX_LENGTH, Review, ReviewSummary
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import CurrentUserId, Reviews
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.openapi import BEARER, documents_body


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=COMMENT_MAX_LENGTH)] | None = None


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

    @post("/", status_code=201, opt=documents_body(ReviewIn))
    async def submit_review(
        self, request: Request[Any, Any, Any], reviews: Reviews, user_id: CurrentUserId
    ) -> Response[Envelope[ReviewOut]]:
        """Submit your review (201) or change it (200): one review per user."""
        body = await read_json(request, ReviewIn)
        submitted = await reviews.submit(user_id, body.rating, body.comment)
        if submitted.created:
            return ok(ReviewOut.of(submitted.review), popup="REVIEW_SUBMITTED", status_code=201)
        return ok(ReviewOut.of(submitted.review), popup="REVIEW_UPDATED")

    @get("/me")
    async def my_review(
        self, reviews: Reviews, user_id: CurrentUserId
    ) -> Response[Envelope[ReviewOut]]:
        """Your review, or 404 REVIEW_NOT_FOUND."""
        return ok(ReviewOut.of(await reviews.mine(user_id)))

    @get("/summary")
    async def summary(
        self, reviews: Reviews, user_id: CurrentUserId
    ) -> Response[Envelope[SummaryOut]]:
        """Count, average (two decimals) and distribution over all users' reviews."""
        del user_id  # signed-in users only, but the summary is everyone's
        return ok(SummaryOut.of(await reviews.summary()))
