"""List changes indexed by list, newest first: "is this change its list's latest?" is one probe.

`GET /sync` walks each change log from the cursor in `seq` order and keeps an entry only if
no later one of the same object exists (adapters/postgres/sync.py). For task history,
`ix_task_history_user_task` answers that; this is its counterpart for `list_changes`, whose
only index was its key (user_id, seq). A plain CREATE INDEX: the table holds one row per
list change, small next to the task history.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_list_changes_user_list", "list_changes", ["user_id", "list_id", sa.text("seq DESC")]
    )


def downgrade() -> None:
    op.drop_index("ix_list_changes_user_list", table_name="list_changes")
