"""Key task_history by (user_id, seq): a user's newest entries are always a short index walk.

With the key on `seq` alone, PostgreSQL could page a heavy user's history by walking the
whole table's `seq` index newest first, reading and discarding every newer entry of every
other user. With (user_id, seq) the user's own index range is the only ordered path.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("pk_task_history", "task_history", type_="primary")
    op.create_primary_key("pk_task_history", "task_history", ["user_id", "seq"])
    op.drop_index("ix_task_history_user_recent", table_name="task_history")


def downgrade() -> None:
    op.create_index("ix_task_history_user_recent", "task_history", ["user_id", sa.text("seq DESC")])
    op.drop_constraint("pk_task_history", "task_history", type_="primary")
    op.create_primary_key("pk_task_history", "task_history", ["seq"])
