"""Create api_tokens: personal tokens with scopes, stored only as a keyed hash.

A token row holds its HMAC-SHA256 (never the token), its scopes and expiry. Revocation
deletes the row; a trigger then notifies `taskapp_token_revoked` with the token's id (on
commit, whatever deleted it: a revoke, or a user's rows going with the user), and every
process listening drops the token from its cache at once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of the domain's scopes and limits: migrations must not follow later code.
_SCOPES = (
    "tasks:read",
    "tasks:write",
    "history:read",
    "stats:read",
    "exports:read",
    "events:read",
    "webhooks:manage",
    "reviews:write",
)
_NAME_MAX_LENGTH = 100


def upgrade() -> None:
    known = ", ".join(f"'{scope}'" for scope in _SCOPES)
    op.create_table(
        "api_tokens",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("scopes", ARRAY(sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            f"char_length(name) BETWEEN 1 AND {_NAME_MAX_LENGTH} AND char_length(btrim(name)) > 0",
            name=op.f("ck_api_tokens_name_length"),
        ),
        sa.CheckConstraint(
            f"cardinality(scopes) >= 1 AND scopes <@ ARRAY[{known}]::text[]",
            name=op.f("ck_api_tokens_scopes_known"),
        ),
        sa.CheckConstraint(
            "expires_at IS NULL OR expires_at > created_at",
            name=op.f("ck_api_tokens_expires_after_created"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index("ix_api_tokens_user_created", "api_tokens", ["user_id", "created_at"])
    op.execute(
        "CREATE FUNCTION api_token_revoked() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('taskapp_token_revoked', OLD.id::text); RETURN OLD; END $$"
    )
    op.execute(
        "CREATE TRIGGER api_tokens_notify_revoked AFTER DELETE ON api_tokens "
        "FOR EACH ROW EXECUTE FUNCTION api_token_revoked()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER api_tokens_notify_revoked ON api_tokens")
    op.execute("DROP FUNCTION api_token_revoked()")
    op.drop_index("ix_api_tokens_user_created", table_name="api_tokens")
    op.drop_table("api_tokens")
