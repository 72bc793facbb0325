"""The schema as SQLAlchemy Core tables: the one MetaData that Alembic also uses.

Constraints repeat the domain's invariants so no code path can store an invalid row.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from taskapp.domain.model import (
    COMMENT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    DISPLAY_NAME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    EMAIL_MIN_LENGTH,
    LABELS_PER_TASK,
    LIST_NAME_MAX_LENGTH,
    RATING_MAX,
    RATING_MIN,
    TITLE_MAX_LENGTH,
    ActionType,
    ExportFormat,
    Priority,
)
from taskapp.domain.model.api_tokens import ALL_SCOPES, API_TOKEN_NAME_MAX_LENGTH
from taskapp.domain.model.webhooks import (
    EVENT_NAMES,
    WEBHOOK_DESCRIPTION_MAX_LENGTH,
    WEBHOOK_URL_MAX_LENGTH,
    DeliveryStatus,
    WebhookStatus,
)


def _within(column: str, low: int, high: int, *, nullable: bool = False) -> str:
    """A length CHECK built from the domain's own limits."""
    rule = f"char_length({column}) BETWEEN {low} AND {high}"
    return f"{column} IS NULL OR {rule}" if nullable else rule


def _one_of(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# How a NULL list or parent (the Inbox, the top level) is indexed and compared.
NIL = "'00000000-0000-0000-0000-000000000000'::uuid"


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _owner(*, primary_key: bool = False, unique: bool = False) -> sa.Column[object]:
    """The owning user: rows go when their user goes."""
    return sa.Column(
        "user_id",
        UUID(as_uuid=True),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
        unique=unique,
    )


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    # The address as the domain compares it (model.email_key): NFKC and case folded.
    sa.Column("email_key", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.CheckConstraint(_within("email", EMAIL_MIN_LENGTH, EMAIL_MAX_LENGTH), name="email_length"),
    sa.CheckConstraint(
        _within("display_name", 1, DISPLAY_NAME_MAX_LENGTH, nullable=True),
        name="display_name_length",
    ),
    sa.Index("uq_users_email_key", "email_key", unique=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _owner(),
    sa.Column("family_id", UUID(as_uuid=True), nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    _timestamp("created_at"),
    _timestamp("expires_at"),
    _timestamp("used_at", nullable=True),
    _timestamp("revoked_at", nullable=True),
    sa.Index("ix_refresh_tokens_family_id", "family_id"),
    sa.Index("ix_refresh_tokens_user_id", "user_id"),
)

# Fixed-window attempt counters shared by every worker and instance. UNLOGGED: losing them
# in a crash only resets the windows, and skipping the WAL makes the upsert cheap.
rate_limit_counters = sa.Table(
    "rate_limit_counters",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    _timestamp("window_start"),
    sa.Column("hits", sa.Integer, nullable=False),
    prefixes=["UNLOGGED"],
)

lists = sa.Table(
    "lists",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _owner(),
    sa.Column("name", sa.Text, nullable=False),
    # The name as the domain compares it (model.list_name_key): unique per user.
    sa.Column("name_key", sa.Text, nullable=False),
    sa.Column("color", sa.Text, nullable=True),
    sa.Column("position", sa.Text(collation="C"), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.Column("version", sa.Integer, nullable=False),
    # Kept by triggers on tasks in the same transaction as every task write.
    sa.Column("open_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("completed_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint(_within("name", 1, LIST_NAME_MAX_LENGTH), name="name_length"),
    sa.CheckConstraint("color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$'", name="color_hex"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.CheckConstraint("open_count >= 0 AND completed_count >= 0", name="counts_not_negative"),
    sa.UniqueConstraint("user_id", "name_key"),
    sa.Index("ix_lists_user_order", "user_id", "position", "id"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _owner(),
    sa.Column("list_id", UUID(as_uuid=True), sa.ForeignKey("lists.id"), nullable=True),
    sa.Column("parent_id", UUID(as_uuid=True), sa.ForeignKey("tasks.id"), nullable=True),
    # A fractional-indexing key, compared byte by byte.
    sa.Column("position", sa.Text(collation="C"), nullable=False, server_default="a0"),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("is_completed", sa.Boolean, nullable=False),
    _timestamp("completed_at", nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    _timestamp("due_at", nullable=True),
    sa.Column("priority", sa.Text, nullable=False, server_default="none"),
    sa.Column("labels", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.Column("version", sa.Integer, nullable=False),
    # The labels as the domain compares them (model.label_key), for the label filter.
    sa.Column("label_keys", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.CheckConstraint(
        _within("title", 1, TITLE_MAX_LENGTH) + " AND char_length(btrim(title)) > 0",
        name="title_length",
    ),
    sa.CheckConstraint(
        _within("description", 1, DESCRIPTION_MAX_LENGTH, nullable=True),
        name="description_length",
    ),
    sa.CheckConstraint(
        "is_completed = (completed_at IS NOT NULL)", name="completed_iff_completed_at"
    ),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.CheckConstraint("due_date IS NULL OR due_at IS NULL", name="due_date_or_due_at"),
    sa.CheckConstraint(_one_of("priority", [p.value for p in Priority]), name="priority_known"),
    sa.CheckConstraint(
        f"cardinality(labels) <= {LABELS_PER_TASK} "
        "AND cardinality(label_keys) = cardinality(labels)",
        name="labels_bounded",
    ),
    sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    # Serves the listing order (open first, newest first, id as tie-break) per user.
    sa.Index(
        "ix_tasks_user_listing",
        "user_id",
        "is_completed",
        sa.text("created_at DESC"),
        sa.text("id DESC"),
    ),
    # Weekly statistics: index-only range counts, whatever the number of tasks.
    sa.Index("ix_tasks_user_created", "user_id", "created_at"),
    sa.Index(
        "ix_tasks_user_completed",
        "user_id",
        "completed_at",
        postgresql_where=sa.text("completed_at IS NOT NULL"),
    ),
    # Manual order among siblings, and the neighbours of a move: NULL (the Inbox, top level)
    # as the nil UUID, so equality covers it and the index gives the order.
    sa.Index(
        "ix_tasks_user_siblings",
        "user_id",
        sa.text(f"coalesce(list_id, {NIL})"),
        sa.text(f"coalesce(parent_id, {NIL})"),
        "position",
        "id",
    ),
    sa.Index("ix_tasks_parent", "parent_id", postgresql_where=sa.text("parent_id IS NOT NULL")),
    sa.Index("ix_tasks_label_keys", "label_keys", postgresql_using="gin"),
    sa.Index(
        "ix_tasks_user_due_at", "user_id", "due_at", postgresql_where=sa.text("due_at IS NOT NULL")
    ),
    sa.Index(
        "ix_tasks_user_due_date",
        "user_id",
        "due_date",
        postgresql_where=sa.text("due_date IS NOT NULL"),
    ),
)

# Append-only: a trigger (see the migration) refuses UPDATE and DELETE. No FK to tasks, so
# entries outlive their task; `seq` records insertion order for a stable tie-break.
task_history = sa.Table(
    "task_history",
    metadata,
    # The key leads with the user: a user's newest entries are one short index range.
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    # Assigned by a trigger after it locks the user's counter row: within one user, `seq`
    # order is commit order, so anchored pages never miss a late-committing entry.
    sa.Column(
        "seq",
        sa.BigInteger,
        primary_key=True,
        autoincrement=False,
        server_default=sa.text("nextval('task_history_seq')"),
    ),
    sa.Column("id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("task_id", UUID(as_uuid=True), nullable=False),
    sa.Column("task_title", sa.Text, nullable=False),
    sa.Column("action_type", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("changes", JSONB, nullable=True),
    _timestamp("created_at"),
    sa.CheckConstraint(
        _one_of("action_type", [a.value for a in ActionType]),
        name="action_type_known",
    ),
    sa.Index("ix_task_history_user_task", "user_id", "task_id", sa.text("seq DESC")),
    sa.Index("ix_task_history_user_action", "user_id", "action_type", sa.text("seq DESC")),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    _owner(primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("task", JSONB, nullable=True),  # the created task as first answered; null = running
    _timestamp("created_at"),
    _timestamp("expires_at"),
    sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
)

# Per-user counters kept by triggers in the same transaction as every write, so exact totals
# cost one primary-key lookup instead of a COUNT(*) over a million rows.
history_counts = sa.Table(
    "history_counts",
    metadata,
    _owner(primary_key=True),
    *(
        sa.Column(name, sa.BigInteger, nullable=False, server_default="0")
        for name in ("total", *(a.value.lower() for a in ActionType))
    ),
)

task_counts = sa.Table(
    "task_counts",
    metadata,
    _owner(primary_key=True),
    # Each connection counts into its own shard (pg_backend_pid() % 16), so one user's
    # concurrent writes do not queue on a single row; readers sum the shards.
    sa.Column("shard", sa.SmallInteger, primary_key=True, server_default="0"),
    sa.Column("open", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("completed", sa.BigInteger, nullable=False, server_default="0"),
)

downloads = sa.Table(
    "downloads",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _owner(),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("item_count", sa.Integer, nullable=False),
    _timestamp("created_at"),
    sa.CheckConstraint(_one_of("format", [f.value for f in ExportFormat]), name="format_known"),
    sa.CheckConstraint("item_count >= 0", name="item_count_not_negative"),
    sa.Index("ix_downloads_user_recent", "user_id", sa.text("created_at DESC"), sa.text("id DESC")),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _owner(unique=True),
    sa.Column("rating", sa.SmallInteger, nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.CheckConstraint(f"rating BETWEEN {RATING_MIN} AND {RATING_MAX}", name="rating_range"),
    sa.CheckConstraint(
        _within("comment", 1, COMMENT_MAX_LENGTH, nullable=True), name="comment_length"
    ),
)

# Personal API tokens: only their keyed hash is stored. A trigger (see migration 0009)
# notifies `taskapp_token_revoked` when a row goes, so every process forgets it at once.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _owner(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at", nullable=True),
    _timestamp("last_used_at", nullable=True),
    sa.CheckConstraint(
        _within("name", 1, API_TOKEN_NAME_MAX_LENGTH) + " AND char_length(btrim(name)) > 0",
        name="name_length",
    ),
    sa.CheckConstraint(
        "cardinality(scopes) >= 1 AND scopes <@ ARRAY["
        + ", ".join(repr(scope.value) for scope in ALL_SCOPES)
        + "]::text[]",
        name="scopes_known",
    ),
    sa.CheckConstraint(
        "expires_at IS NULL OR expires_at > created_at", name="expires_after_created"
    ),
    sa.Index("ix_api_tokens_user_created", "user_id", "created_at"),
)

# Sync (migration 0011): a trigger on `lists` logs each change of a list here, numbered from
# the history's sequence under the same per-user lock, so tasks and lists share one `seq`
# order per user, in commit order. Once a write that logged changes has committed, the app
# NOTIFYs `taskapp_changes` with the users' ids (change_notices.py; the triggers did until
# migration 0014).
list_changes = sa.Table(
    "list_changes",
    metadata,
    _owner(primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("list_id", UUID(as_uuid=True), nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.CheckConstraint(
        _one_of("action", ["CREATED", "UPDATED", "MOVED", "DELETED"]), name="action_known"
    ),
    # A list's latest change is one probe: GET /sync keeps only objects' latest entries.
    sa.Index("ix_list_changes_user_list", "user_id", "list_id", sa.text("seq DESC")),
)

# Single-use tickets for browsers' EventSource (which cannot send headers): kept as hashes.
event_tickets = sa.Table(
    "event_tickets",
    metadata,
    sa.Column("ticket_hash", sa.Text, primary_key=True),
    _owner(),
    _timestamp("expires_at"),
    sa.Index("ix_event_tickets_expires_at", "expires_at"),
)

# Webhooks (migration 0013): `position` is the last change of the user's log already queued
# for the webhook; the log is the outbox (decision 0016).
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _owner(),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("events", ARRAY(sa.Text), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("disabled_reason", sa.Text, nullable=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.CheckConstraint(_within("url", 1, WEBHOOK_URL_MAX_LENGTH), name="url_length"),
    sa.CheckConstraint(
        _within("description", 0, WEBHOOK_DESCRIPTION_MAX_LENGTH), name="description_length"
    ),
    sa.CheckConstraint(
        "cardinality(events) >= 1 AND events <@ ARRAY["
        + ", ".join(repr(name) for name in EVENT_NAMES)
        + "]::text[]",
        name="events_known",
    ),
    sa.CheckConstraint(_one_of("status", [s.value for s in WebhookStatus]), name="status_known"),
    sa.Index("ix_webhooks_user_created", "user_id", "created_at"),
)

# One event queued for one webhook; `id` is the `webhook-id` header, `body` the exact JSON.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "webhook_id",
        UUID(as_uuid=True),
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    _owner(),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    _timestamp("next_attempt_at"),
    _timestamp("created_at"),
    _timestamp("last_attempt_at", nullable=True),
    sa.CheckConstraint(_one_of("status", [s.value for s in DeliveryStatus]), name="status_known"),
    sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    sa.Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at"),
    sa.Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        postgresql_where=sa.text("status = 'pending'"),
    ),
)
