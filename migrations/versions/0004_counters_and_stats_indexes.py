"""Per-user history and task counters kept by triggers; indexes for weekly statistics.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQL below is assembled from these constants only (never from input): S608 does not apply.
ACTIONS = ("created", "updated", "completed", "reopened", "deleted")

HISTORY_TRIGGER_FUNCTION = f"""
CREATE FUNCTION task_history_count_and_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history_counts AS c (user_id, total, {", ".join(ACTIONS)})
    VALUES (NEW.user_id, 1, {", ".join(f"(NEW.action_type = '{a.upper()}')::int" for a in ACTIONS)})
    ON CONFLICT (user_id) DO UPDATE SET
        total = c.total + 1,
        {", ".join(f"{a} = c.{a} + EXCLUDED.{a}" for a in ACTIONS)};
    -- Numbered only now, with the user's counter row locked until commit: within one user,
    -- seq order is commit order.
    NEW.seq := nextval('task_history_seq');
    RETURN NEW;
END;
$$
"""

TASK_TRIGGER_FUNCTION = """
CREATE FUNCTION task_counts_follow() RETURNS trigger
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
    op.execute("CREATE SEQUENCE task_history_seq AS bigint")
    op.execute("ALTER TABLE task_history ALTER COLUMN seq DROP IDENTITY")
    op.execute(
        "SELECT setval('task_history_seq', coalesce(max(seq), 0) + 1, false) FROM task_history"
    )
    op.execute("ALTER TABLE task_history ALTER COLUMN seq SET DEFAULT nextval('task_history_seq')")
    op.execute("ALTER SEQUENCE task_history_seq OWNED BY task_history.seq")
    op.create_table(
        "history_counts",
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)
            for name in ("total", *ACTIONS)
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_history_counts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_history_counts")),
    )
    op.execute(
        f"""
        INSERT INTO history_counts (user_id, total, {", ".join(ACTIONS)})
        SELECT user_id, count(*),
               {", ".join(f"count(*) FILTER (WHERE action_type = '{a.upper()}')" for a in ACTIONS)}
        FROM task_history GROUP BY user_id
        """
    )
    op.execute(HISTORY_TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER task_history_count_and_order BEFORE INSERT ON task_history "
        "FOR EACH ROW EXECUTE FUNCTION task_history_count_and_order()"
    )
    op.create_table(
        "task_counts",
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("open", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("completed", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_counts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_task_counts")),
    )
    op.execute(
        """
        INSERT INTO task_counts (user_id, open, completed)
        SELECT user_id,
               count(*) FILTER (WHERE NOT is_completed),
               count(*) FILTER (WHERE is_completed)
        FROM tasks GROUP BY user_id
        """
    )
    op.execute(TASK_TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER task_counts_follow AFTER INSERT OR DELETE OR UPDATE OF is_completed "
        "ON tasks FOR EACH ROW EXECUTE FUNCTION task_counts_follow()"
    )
    op.create_index("ix_tasks_user_created", "tasks", ["user_id", "created_at"])
    op.create_index(
        "ix_tasks_user_completed",
        "tasks",
        ["user_id", "completed_at"],
        postgresql_where=sa.text("completed_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_user_completed", table_name="tasks")
    op.drop_index("ix_tasks_user_created", table_name="tasks")
    op.execute("DROP TRIGGER task_counts_follow ON tasks")
    op.execute("DROP FUNCTION task_counts_follow()")
    op.drop_table("task_counts")
    op.execute("DROP TRIGGER task_history_count_and_order ON task_history")
    op.execute("DROP FUNCTION task_history_count_and_order()")
    op.drop_table("history_counts")
    op.execute("ALTER TABLE task_history ALTER COLUMN seq DROP DEFAULT")
    op.execute("DROP SEQUENCE task_history_seq")
    op.execute("ALTER TABLE task_history ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('task_history', 'seq'), "
        "coalesce(max(seq), 0) + 1, false) FROM task_history"
    )
