"""Reviews in PostgreSQL: one row per user, written with a single upsert."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapp.adapters.postgres.tables import reviews
from taskapp.domain.model import Review, ReviewSummary


def _to_review(row: Any) -> Review:
    return Review(
        id=row.id,
        user_id=row.user_id,
        rating=row.rating,
        comment=row.comment,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class PostgresReviewRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def upsert(self, review: Review) -> tuple[Review, bool]:
        row = insert(reviews).values(
            id=review.id,
            user_id=review.user_id,
            rating=review.rating,
            comment=review.comment,
            created_at=review.created_at,
            updated_at=review.updated_at,
        )
        statement = row.on_conflict_do_update(
            index_elements=[reviews.c.user_id],
            set_={
                "rating": row.excluded.rating,
                "comment": row.excluded.comment,
                "updated_at": row.excluded.updated_at,
            },
        ).returning(
            *reviews.c,
            # xmax is 0 for a freshly inserted row version, non-zero after ON CONFLICT UPDATE.
            (sa.literal_column("xmax") == sa.literal_column("'0'")).label("created"),
        )
        stored = (await self._connection.execute(statement)).one()
        return _to_review(stored), bool(stored.created)

    async def get(self, user_id: UUID) -> Review | None:
        row = (
            await self._connection.execute(sa.select(reviews).where(reviews.c.user_id == user_id))
        ).first()
        return None if row is None else _to_review(row)

    async def summary(self) -> ReviewSummary:
        per_rating = [
            sa.func.count().filter(reviews.c.rating == n).label(f"r{n}") for n in range(1, 6)
        ]
        row = (
            await self._connection.execute(
                sa.select(
                    sa.func.count().label("reviews"),
                    sa.func.coalesce(sa.func.sum(reviews.c.rating), 0).label("rating_sum"),
                    *per_rating,
                )
            )
        ).one()
        return ReviewSummary(
            count=int(row.reviews),
            rating_sum=int(row.rating_sum),
            distribution={n: int(getattr(row, f"r{n}")) for n in range(1, 6)},
        )
