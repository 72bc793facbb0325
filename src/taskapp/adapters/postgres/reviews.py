"""Reviews in PostgreSQL: one row per user, written with a single upsert."""

from __future__ import annotations

from dataclasses import fields
from uuid import UUID

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.statements import column_list
from taskapp.domain.model import RATING_MAX, RATING_MIN, Review, ReviewSummary

REVIEW_COLUMNS = tuple(field.name for field in fields(Review))
_COLUMNS = column_list(REVIEW_COLUMNS)
_RATINGS = range(RATING_MIN, RATING_MAX + 1)
_UPSERT = (
    f"INSERT INTO reviews AS r ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (user_id) DO UPDATE SET rating = EXCLUDED.rating, "
    "comment = EXCLUDED.comment, updated_at = EXCLUDED.updated_at "
    # xmax is 0 for a freshly inserted row version, non-zero after ON CONFLICT UPDATE.
    f"RETURNING {column_list(REVIEW_COLUMNS, 'r.')}, (r.xmax = 0) AS created"
)
_GET = f"SELECT {_COLUMNS} FROM reviews WHERE user_id = $1"
_SUMMARY = (
    "SELECT count(*), coalesce(sum(rating), 0)::bigint, "
    + ", ".join(f"count(*) FILTER (WHERE rating = {n})" for n in _RATINGS)
    + " FROM reviews"
)


class PostgresReviewStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def upsert(self, review: Review) -> tuple[Review, bool]:
        args = tuple(getattr(review, name) for name in REVIEW_COLUMNS)
        row = await self._db.fetchrow(_UPSERT, *args)
        assert row is not None
        return Review(*row[:-1]), bool(row["created"])

    async def get(self, user_id: UUID) -> Review | None:
        row = await self._db.fetchrow(_GET, user_id)
        return None if row is None else Review(*row)

    async def summary(self) -> ReviewSummary:
        row = await self._db.fetchrow(_SUMMARY)
        assert row is not None
        return ReviewSummary(
            count=row[0],
            rating_sum=row[1],
            distribution={n: row[i] for i, n in enumerate(_RATINGS, start=2)},
        )
