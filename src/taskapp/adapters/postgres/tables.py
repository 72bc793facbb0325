"""The schema as SQLAlchemy Core tables: the one MetaData that Alembic also uses.

Constraints repeat the domain's invariants so no code path can store an invalid row.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.CheckConstraint("char_length(email) BETWEEN 3 AND 254", name="email_length"),
    sa.CheckConstraint(
        "display_name IS NULL OR char_length(display_name) BETWEEN 1 AND 100",
        name="display_name_length",
    ),
    sa.Index("uq_users_email_lower", sa.text("lower(email)"), unique=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "user_id",
        UUID(as_uuid=True),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("family_id", UUID(as_uuid=True), nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    _timestamp("created_at"),
    _timestamp("expires_at"),
    _timestamp("used_at", nullable=True),
    _timestamp("revoked_at", nullable=True),
    sa.Index("ix_refresh_tokens_family_id", "family_id"),
    sa.Index("ix_refresh_tokens_user_id", "user_id"),
)

# Fixed-window attempt counters shared by every worker and instance. UNLOGGED: losing them
# in a crash only resets the windows, and skipping the WAL makes the upsert cheap.
rate_limit_counters = sa.Table(
    "rate_limit_counters",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    _timestamp("window_start"),
    sa.Column("hits", sa.Integer, nullable=False),
    prefixes=["UNLOGGED"],
)
