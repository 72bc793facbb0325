"""Organising tasks: lists, subtasks, manual order, due dates, priorities, labels.

Existing tasks stay valid: they are in the Inbox (no list), top-level, priority `none`, no
labels, and get positions in today's order (open first, newest first) per user. Positions
are fractional-indexing keys compared byte by byte (COLLATE "C"); the migration gives them
integer keys of head `h` (8 digits), below every key the application makes later.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the domain's rules: migrations must not follow later code.
_PRIORITIES = ("none", "low", "medium", "high")
_NIL = "'00000000-0000-0000-0000-000000000000'::uuid"
_ACTIONS_BEFORE = ("CREATED", "UPDATED", "COMPLETED", "REOPENED", "DELETED")
_ACTIONS = (*_ACTIONS_BEFORE, "MOVED")

_BASE62 = """
CREATE FUNCTION pg_temp.base62(n bigint, width int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    out text := '';
BEGIN
    WHILE n > 0 LOOP
        out := substr(digits, (n % 62)::int + 1, 1) || out;
        n := n / 62;
    END LOOP;
    RETURN lpad(out, width, '0');
END;
$$
"""

_LIST_COUNTS = """
CREATE FUNCTION lists_count_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.list_id IS NOT NULL THEN
        UPDATE lists SET
            open_count = open_count - (NOT OLD.is_completed)::int,
            completed_count = completed_count - OLD.is_completed::int
        WHERE id = OLD.list_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.list_id IS NOT NULL THEN
        UPDATE lists SET
            open_count = open_count + (NOT NEW.is_completed)::int,
            completed_count = completed_count + NEW.is_completed::int
        WHERE id = NEW.list_id;
    END IF;
    RETURN NULL;
END;
$$
"""

# Checked at commit (deferred), when a move has updated the task and all its subtasks.
_PARENT_CHECK = """
CREATE FUNCTION tasks_check_placement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    current tasks%ROWTYPE;
    parent tasks%ROWTYPE;
    cursor_id uuid;
    depth int;
BEGIN
    SELECT * INTO current FROM tasks WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;  -- deleted later in the same transaction
    END IF;
    IF current.parent_id IS NOT NULL THEN
        SELECT * INTO parent FROM tasks WHERE id = current.parent_id;
        IF NOT FOUND OR parent.user_id <> current.user_id
           OR parent.list_id IS DISTINCT FROM current.list_id THEN
            RAISE EXCEPTION 'a subtask must be in its parent''s list'
                USING ERRCODE = 'check_violation';
        END IF;
        depth := 1;
        cursor_id := current.parent_id;
        WHILE cursor_id IS NOT NULL LOOP
            depth := depth + 1;
            IF cursor_id = current.id THEN
                RAISE EXCEPTION 'a task cannot be its own ancestor'
                    USING ERRCODE = 'check_violation';
            END IF;
            IF depth > 4 THEN
                RAISE EXCEPTION 'subtasks nest at most 4 levels deep'
                    USING ERRCODE = 'check_violation';
            END IF;
            SELECT t.parent_id INTO cursor_id FROM tasks t WHERE t.id = cursor_id;
        END LOOP;
    END IF;
    IF EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = current.id
               AND c.list_id IS DISTINCT FROM current.list_id) THEN
        RAISE EXCEPTION 'subtasks must move with their parent'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$
"""


def _history_counting(actions: Sequence[str]) -> str:
    """The history trigger of 0004, counting `actions` (lowercase column per action)."""
    columns = [a.lower() for a in actions]
    return f"""
CREATE OR REPLACE FUNCTION task_history_count_and_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history_counts AS c (user_id, total, {", ".join(columns)})
    VALUES (NEW.user_id, 1, {", ".join(f"(NEW.action_type = '{a}')::int" for a in actions)})
    ON CONFLICT (user_id) DO UPDATE SET
        total = c.total + 1,
        {", ".join(f"{c} = c.{c} + EXCLUDED.{c}" for c in columns)};
    -- Numbered only now, with the user's counter row locked until commit: within one user,
    -- seq order is commit order.
    NEW.seq := nextval('task_history_seq');
    RETURN NEW;
END;
$$
"""


def _actions_check(actions: Sequence[str]) -> str:
    return "action_type IN (" + ", ".join(f"'{a}'" for a in actions) + ")"


def upgrade() -> None:
    op.create_table(
        "lists",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("color", sa.Text(), nullable=True),
        sa.Column("position", sa.Text(collation="C"), nullable=False),
        sa.Column("open_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("completed_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 100", name=op.f("ck_lists_name_length")
        ),
        sa.CheckConstraint(
            "color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$'", name=op.f("ck_lists_color_hex")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_lists_version_positive")),
        sa.CheckConstraint(
            "open_count >= 0 AND completed_count >= 0", name=op.f("ck_lists_counts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lists_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
        sa.UniqueConstraint("user_id", "name_key", name=op.f("uq_lists_user_id_name_key")),
    )
    op.create_index("ix_lists_user_order", "lists", ["user_id", "position", "id"])

    op.add_column("tasks", sa.Column("list_id", UUID(as_uuid=True), nullable=True))
    op.add_column("tasks", sa.Column("parent_id", UUID(as_uuid=True), nullable=True))
    op.add_column("tasks", sa.Column("position", sa.Text(collation="C"), nullable=True))
    op.add_column("tasks", sa.Column("due_date", sa.Date(), nullable=True))
    op.add_column("tasks", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("priority", sa.Text(), server_default="none", nullable=False))
    for name in ("labels", "label_keys"):
        op.add_column(
            "tasks",
            sa.Column(name, ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        )
    op.execute(_BASE62)
    op.execute(
        "UPDATE tasks SET position = 'h' || pg_temp.base62(ranked.n, 8) FROM ("
        " SELECT id, row_number() OVER (PARTITION BY user_id"
        " ORDER BY is_completed, created_at DESC, id DESC) AS n FROM tasks) AS ranked"
        " WHERE tasks.id = ranked.id"
    )
    # Rows inserted by hand (maintenance, bulk loads) land first in their group, ties by id.
    op.alter_column("tasks", "position", nullable=False, server_default="a0")
    op.create_foreign_key(op.f("fk_tasks_list_id_lists"), "tasks", "lists", ["list_id"], ["id"])
    op.create_foreign_key(op.f("fk_tasks_parent_id_tasks"), "tasks", "tasks", ["parent_id"], ["id"])
    op.create_check_constraint(
        op.f("ck_tasks_due_date_or_due_at"), "tasks", "due_date IS NULL OR due_at IS NULL"
    )
    op.create_check_constraint(
        op.f("ck_tasks_priority_known"),
        "tasks",
        "priority IN (" + ", ".join(f"'{p}'" for p in _PRIORITIES) + ")",
    )
    op.create_check_constraint(
        op.f("ck_tasks_labels_bounded"),
        "tasks",
        "cardinality(labels) <= 20 AND cardinality(label_keys) = cardinality(labels)",
    )
    op.create_check_constraint(
        op.f("ck_tasks_not_own_parent"), "tasks", "parent_id IS NULL OR parent_id <> id"
    )
    op.create_index(
        "ix_tasks_user_siblings",
        "tasks",
        [
            "user_id",
            sa.text(f"coalesce(list_id, {_NIL})"),
            sa.text(f"coalesce(parent_id, {_NIL})"),
            "position",
            "id",
        ],
    )
    op.create_index(
        "ix_tasks_parent", "tasks", ["parent_id"], postgresql_where=sa.text("parent_id IS NOT NULL")
    )
    op.create_index("ix_tasks_label_keys", "tasks", ["label_keys"], postgresql_using="gin")
    op.create_index(
        "ix_tasks_user_due_at",
        "tasks",
        ["user_id", "due_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_index(
        "ix_tasks_user_due_date",
        "tasks",
        ["user_id", "due_date"],
        postgresql_where=sa.text("due_date IS NOT NULL"),
    )

    op.add_column(
        "history_counts",
        sa.Column("moved", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.execute(_history_counting(_ACTIONS))
    op.drop_constraint(op.f("ck_task_history_action_type_known"), "task_history")
    op.create_check_constraint(
        op.f("ck_task_history_action_type_known"), "task_history", _actions_check(_ACTIONS)
    )

    op.execute(_LIST_COUNTS)
    op.execute(
        "CREATE TRIGGER lists_count_on_insert AFTER INSERT ON tasks FOR EACH ROW "
        "WHEN (NEW.list_id IS NOT NULL) EXECUTE FUNCTION lists_count_follow()"
    )
    op.execute(
        "CREATE TRIGGER lists_count_on_delete AFTER DELETE ON tasks FOR EACH ROW "
        "WHEN (OLD.list_id IS NOT NULL) EXECUTE FUNCTION lists_count_follow()"
    )
    op.execute(
        "CREATE TRIGGER lists_count_on_update AFTER UPDATE OF is_completed, list_id ON tasks "
        "FOR EACH ROW WHEN (OLD.is_completed IS DISTINCT FROM NEW.is_completed "
        "OR OLD.list_id IS DISTINCT FROM NEW.list_id) EXECUTE FUNCTION lists_count_follow()"
    )
    op.execute(_PARENT_CHECK)
    op.execute(
        "CREATE CONSTRAINT TRIGGER tasks_placement_on_insert AFTER INSERT ON tasks "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL) "
        "EXECUTE FUNCTION tasks_check_placement()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER tasks_placement_on_update AFTER UPDATE OF parent_id, list_id "
        "ON tasks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id "
        "OR OLD.list_id IS DISTINCT FROM NEW.list_id) EXECUTE FUNCTION tasks_check_placement()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_placement_on_update ON tasks")
    op.execute("DROP TRIGGER tasks_placement_on_insert ON tasks")
    op.execute("DROP FUNCTION tasks_check_placement()")
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER lists_count_on_{name} ON tasks")
    op.execute("DROP FUNCTION lists_count_follow()")
    op.execute(_history_counting(_ACTIONS_BEFORE))
    op.drop_column("history_counts", "moved")
    # MOVED entries may exist and the history is append-only: the old rule applies to new
    # rows only.
    op.drop_constraint(op.f("ck_task_history_action_type_known"), "task_history")
    op.execute(
        "ALTER TABLE task_history ADD CONSTRAINT ck_task_history_action_type_known "
        f"CHECK ({_actions_check(_ACTIONS_BEFORE)}) NOT VALID"
    )
    for index in (
        "ix_tasks_user_due_date",
        "ix_tasks_user_due_at",
        "ix_tasks_label_keys",
        "ix_tasks_parent",
        "ix_tasks_user_siblings",
    ):
        op.drop_index(index, table_name="tasks")
    for constraint in (
        "ck_tasks_not_own_parent",
        "ck_tasks_labels_bounded",
        "ck_tasks_priority_known",
        "ck_tasks_due_date_or_due_at",
        "fk_tasks_parent_id_tasks",
        "fk_tasks_list_id_lists",
    ):
        op.drop_constraint(op.f(constraint), "tasks")
    for column in (
        "label_keys",
        "labels",
        "priority",
        "due_at",
        "due_date",
        "position",
        "parent_id",
        "list_id",
    ):
        op.drop_column("tasks", column)
    op.drop_index("ix_lists_user_order", table_name="lists")
    op.drop_table("lists")
