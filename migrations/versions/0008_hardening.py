"""History refuses TRUNCATE; claims in progress are SQL NULL; accounts keyed by email_key.

The append-only triggers refused row-level UPDATE and DELETE only: `TRUNCATE task_history`
went through. A statement-level trigger now refuses it as well (maintenance that must empty
the table runs with `session_replication_role = replica`, which needs a superuser).

Claims stored by the earlier adapter held JSON `null` while their request ran, so neither
the release of a failed request nor the takeover of an abandoned claim could find them.

Accounts are told apart by `email_key` (NFKC + case folding, computed by the domain), not by
lower(email): lower() does not fold `ß` to `ss`. Existing rows get the same key, computed
here in Python (a frozen copy of the rule, as migrations must not follow later code).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TRIGGER task_history_no_truncate BEFORE TRUNCATE ON task_history "
        "FOR EACH STATEMENT EXECUTE FUNCTION task_history_is_append_only()"
    )
    op.execute("UPDATE idempotency_keys SET task = NULL WHERE task = 'null'::jsonb")
    op.add_column("users", sa.Column("email_key", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, email FROM users")).all()
    keys = {row.id: unicodedata.normalize("NFKC", row.email).casefold() for row in rows}
    if len(set(keys.values())) < len(keys):
        raise RuntimeError(
            "some existing accounts differ only by Unicode case folding or NFKC; merge them "
            "before upgrading (SELECT email FROM users ORDER BY lower(email))"
        )
    if keys:
        connection.execute(
            sa.text("UPDATE users SET email_key = :key WHERE id = :id"),
            [{"id": user_id, "key": key} for user_id, key in keys.items()],
        )
    op.alter_column("users", "email_key", nullable=False)
    op.create_index("uq_users_email_key", "users", ["email_key"], unique=True)
    op.drop_index("uq_users_email_lower", table_name="users")


def downgrade() -> None:
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.drop_index("uq_users_email_key", table_name="users")
    op.drop_column("users", "email_key")
    op.execute("DROP TRIGGER task_history_no_truncate ON task_history")
