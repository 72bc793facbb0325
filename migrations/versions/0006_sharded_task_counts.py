"""Shard task_counts per user, so one user's concurrent writes do not queue on one row.

Each connection updates the shard `pg_backend_pid() % 16` of the user's counters; readers
sum the shards.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDED_FUNCTION = """
CREATE OR REPLACE FUNCTION task_counts_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    delta_open integer := 0;
    delta_completed integer := 0;
    owner uuid;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        owner := NEW.user_id;
        delta_open := delta_open + (NOT NEW.is_completed)::int;
        delta_completed := delta_completed + NEW.is_completed::int;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        owner := OLD.user_id;
        delta_open := delta_open - (NOT OLD.is_completed)::int;
        delta_completed := delta_completed - OLD.is_completed::int;
    END IF;
    IF delta_open <> 0 OR delta_completed <> 0 THEN
        INSERT INTO task_counts AS c (user_id, shard, open, completed)
        VALUES (owner, pg_backend_pid() % 16, delta_open, delta_completed)
        ON CONFLICT (user_id, shard) DO UPDATE SET
            open = c.open + EXCLUDED.open, completed = c.completed + EXCLUDED.completed;
    END IF;
    RETURN NULL;
END;
$$
"""

SINGLE_ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION task_counts_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_counts AS c (user_id, open, completed)
        VALUES (NEW.user_id, (NOT NEW.is_completed)::int, NEW.is_completed::int)
        ON CONFLICT (user_id) DO UPDATE SET
            open = c.open + EXCLUDED.open, completed = c.completed + EXCLUDED.completed;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE task_counts SET
            open = open - (NOT OLD.is_completed)::int,
            completed = completed - OLD.is_completed::int
        WHERE user_id = OLD.user_id;
    ELSIF OLD.is_completed IS DISTINCT FROM NEW.is_completed THEN
        UPDATE task_counts SET
            open = open + (NOT NEW.is_completed)::int - (NOT OLD.is_completed)::int,
            completed = completed + NEW.is_completed::int - OLD.is_completed::int
        WHERE user_id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    op.add_column(
        "task_counts", sa.Column("shard", sa.SmallInteger(), server_default="0", nullable=False)
    )
    op.drop_constraint("pk_task_counts", "task_counts", type_="primary")
    op.create_primary_key("pk_task_counts", "task_counts", ["user_id", "shard"])
    op.execute(SHARDED_FUNCTION)


def downgrade() -> None:
    # Fold the shards back into one row per user, recounted from the tasks themselves.
    op.execute("DELETE FROM task_counts")
    op.drop_constraint("pk_task_counts", "task_counts", type_="primary")
    op.drop_column("task_counts", "shard")
    op.create_primary_key("pk_task_counts", "task_counts", ["user_id"])
    op.execute(
        """
        INSERT INTO task_counts (user_id, open, completed)
        SELECT user_id,
               count(*) FILTER (WHERE NOT is_completed),
               count(*) FILTER (WHERE is_completed)
        FROM tasks GROUP BY user_id
        """
    )
    op.execute(SINGLE_ROW_FUNCTION)
