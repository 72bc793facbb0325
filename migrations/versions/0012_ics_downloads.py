"""Downloads may be iCalendar exports: format 'ics' joins 'csv' and 'json'.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ck_downloads_format_known"


def upgrade() -> None:
    op.drop_constraint(op.f(_NAME), "downloads", type_="check")
    op.create_check_constraint(op.f(_NAME), "downloads", "format IN ('csv', 'json', 'ics')")


def downgrade() -> None:
    # An older app knows no iCalendar download: those records go with the format.
    op.execute("DELETE FROM downloads WHERE format = 'ics'")
    op.drop_constraint(op.f(_NAME), "downloads", type_="check")
    op.create_check_constraint(op.f(_NAME), "downloads", "format IN ('csv', 'json')")
