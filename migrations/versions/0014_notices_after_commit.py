"""Change notices leave the writing transaction: the triggers no longer NOTIFY.

Migration 0011's triggers sent `NOTIFY taskapp_changes, '<user id>'` for every history entry
and list change, inside the write: at commit, every such transaction took PostgreSQL's one
notification-queue lock and held it through its WAL flush, so writes of different users
could no longer commit side by side (docs/performance.md, "Sync and live events"). The app
now sends the notices itself once a write has committed (adapters/postgres/change_notices.py,
decision 0015, revised). Here `lists_log_change()` is recreated without its `pg_notify`
(it still logs every list change, numbered under the user's `history_counts` row), and the
history's notify-only trigger goes. Downgrade puts both back as 0011 made them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of 0011's function (migrations must not follow later code), with or without
# its notice.
_LOG_LIST_CHANGE = """
CREATE OR REPLACE FUNCTION lists_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
    VALUES (owner, nextval('task_history_seq'), changed, kind);{notice}
    RETURN NULL;
END;
$$
"""
_NOTICE = "\n    PERFORM pg_notify('taskapp_changes', owner::text);"

_NOTIFY_HISTORY = """
CREATE FUNCTION task_history_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('taskapp_changes', NEW.user_id::text);
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    op.execute(_LOG_LIST_CHANGE.replace("{notice}", ""))
    op.execute("DROP TRIGGER task_history_notify ON task_history")
    op.execute("DROP FUNCTION task_history_notify()")


def downgrade() -> None:
    op.execute(_NOTIFY_HISTORY)
    op.execute(
        "CREATE TRIGGER task_history_notify AFTER INSERT ON task_history "
        "FOR EACH ROW EXECUTE FUNCTION task_history_notify()"
    )
    op.execute(_LOG_LIST_CHANGE.replace("{notice}", _NOTICE))
