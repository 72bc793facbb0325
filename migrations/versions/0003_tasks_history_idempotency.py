"""Create tasks, the append-only task_history, and idempotency_keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION task_history_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'task_history is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

APPEND_ONLY_TRIGGER = """
CREATE TRIGGER task_history_append_only
BEFORE UPDATE OR DELETE ON task_history
FOR EACH ROW EXECUTE FUNCTION task_history_is_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_completed", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "char_length(title) BETWEEN 1 AND 255 AND char_length(btrim(title)) > 0",
            name=op.f("ck_tasks_title_length"),
        ),
        sa.CheckConstraint(
            "description IS NULL OR char_length(description) BETWEEN 1 AND 5000",
            name=op.f("ck_tasks_description_length"),
        ),
        sa.CheckConstraint(
            "is_completed = (completed_at IS NOT NULL)",
            name=op.f("ck_tasks_completed_iff_completed_at"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_tasks_version_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tasks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(
        "ix_tasks_user_listing",
        "tasks",
        ["user_id", "is_completed", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_table(
        "task_history",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("task_id", UUID(as_uuid=True), nullable=False),
        sa.Column("task_title", sa.Text(), nullable=False),
        sa.Column("action_type", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("changes", JSONB(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action_type IN ('CREATED', 'UPDATED', 'COMPLETED', 'REOPENED', 'DELETED')",
            name=op.f("ck_task_history_action_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_history_user_id_users")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_task_history")),
        sa.UniqueConstraint("id", name=op.f("uq_task_history_id")),
    )
    op.create_index("ix_task_history_user_recent", "task_history", ["user_id", sa.text("seq DESC")])
    op.create_index(
        "ix_task_history_user_task", "task_history", ["user_id", "task_id", sa.text("seq DESC")]
    )
    op.create_index(
        "ix_task_history_user_action",
        "task_history",
        ["user_id", "action_type", sa.text("seq DESC")],
    )
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(APPEND_ONLY_TRIGGER)
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("task", JSONB(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.execute("DROP TRIGGER task_history_append_only ON task_history")
    op.execute("DROP FUNCTION task_history_is_append_only()")
    op.drop_index("ix_task_history_user_action", table_name="task_history")
    op.drop_index("ix_task_history_user_task", table_name="task_history")
    op.drop_index("ix_task_history_user_recent", table_name="task_history")
    op.drop_table("task_history")
    op.drop_index("ix_tasks_user_listing", table_name="tasks")
    op.drop_table("tasks")
