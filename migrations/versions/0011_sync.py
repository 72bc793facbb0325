"""Sync and live events: a change log for lists, notices on commit, browser stream tickets.

- `list_changes`: one row per change of a list (created, updated, moved, deleted), written
  by a trigger on `lists` and numbered from the same sequence as `task_history`, after
  taking the user's `history_counts` row like the history trigger does: within one user,
  task and list changes share one `seq` order, and it is commit order (decision 0005).
- Every new history entry and list change sends `NOTIFY taskapp_changes, '<user id>'` on
  commit (PostgreSQL folds equal notices of one transaction into one).
- `event_tickets`: single-use, short-lived tickets for browsers' EventSource, stored as
  hashes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOG_LIST_CHANGE = """
CREATE FUNCTION lists_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner uuid;
    changed uuid;
    kind text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        owner := OLD.user_id;
        changed := OLD.id;
        kind := 'DELETED';
        IF NOT EXISTS (SELECT 1 FROM users WHERE id = owner) THEN
            RETURN NULL;  -- the user is being deleted: nobody is left to sync
        END IF;
    ELSE
        owner := NEW.user_id;
        changed := NEW.id;
        kind := CASE
            WHEN TG_OP = 'INSERT' THEN 'CREATED'
            WHEN OLD.position IS DISTINCT FROM NEW.position THEN 'MOVED'
            ELSE 'UPDATED'
        END;
    END IF;
    -- The user's counter row first, as the history trigger does: seq order is commit order.
    INSERT INTO history_counts AS c (user_id) VALUES (owner)
    ON CONFLICT (user_id) DO UPDATE SET total = c.total;
    INSERT INTO list_changes (user_id, seq, list_id, action)
    VALUES (owner, nextval('task_history_seq'), changed, kind);
    PERFORM pg_notify('taskapp_changes', owner::text);
    RETURN NULL;
END;
$$
"""

_NOTIFY_HISTORY = """
CREATE FUNCTION task_history_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('taskapp_changes', NEW.user_id::text);
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    op.create_table(
        "list_changes",
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("list_id", UUID(as_uuid=True), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('CREATED', 'UPDATED', 'MOVED', 'DELETED')",
            name=op.f("ck_list_changes_action_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_list_changes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "seq", name=op.f("pk_list_changes")),
    )
    op.create_table(
        "event_tickets",
        sa.Column("ticket_hash", sa.Text(), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_event_tickets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_event_tickets")),
    )
    op.create_index("ix_event_tickets_expires_at", "event_tickets", ["expires_at"])
    # Lists that exist already get a CREATED change, so a first sync carries them.
    op.execute(
        "INSERT INTO list_changes (user_id, seq, list_id, action) "
        "SELECT user_id, nextval('task_history_seq'), id, 'CREATED' FROM lists "
        "ORDER BY user_id, position, id"
    )
    op.execute(_LOG_LIST_CHANGE)
    op.execute(
        "CREATE TRIGGER lists_log_insert_delete AFTER INSERT OR DELETE ON lists "
        "FOR EACH ROW EXECUTE FUNCTION lists_log_change()"
    )
    # Only the list's own fields: its counts, kept by triggers on tasks, are no change.
    op.execute(
        "CREATE TRIGGER lists_log_update AFTER UPDATE ON lists FOR EACH ROW "
        "WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION lists_log_change()"
    )
    op.execute(_NOTIFY_HISTORY)
    op.execute(
        "CREATE TRIGGER task_history_notify AFTER INSERT ON task_history "
        "FOR EACH ROW EXECUTE FUNCTION task_history_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER task_history_notify ON task_history")
    op.execute("DROP FUNCTION task_history_notify()")
    op.execute("DROP TRIGGER lists_log_update ON lists")
    op.execute("DROP TRIGGER lists_log_insert_delete ON lists")
    op.execute("DROP FUNCTION lists_log_change()")
    op.drop_index("ix_event_tickets_expires_at", table_name="event_tickets")
    op.drop_table("event_tickets")
    op.drop_table("list_changes")
