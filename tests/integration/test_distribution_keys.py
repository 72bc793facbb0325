"""Scaling past one database (docs/scaling.md): taskapp's data would be distributed by
`user_id` (Citus). That works when every table carries user_id and every primary key and
unique constraint includes it. This test lists, from the migrated schema itself, every
unique index (primary keys included) without user_id, and holds that list to the
commented allow-list below: a new table or constraint without user_id fails here until it
is given user_id or is added with its reason (and docs/scaling.md says what changes)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

_UNIQUE_INDEXES = """
SELECT c.relname, i.relname, array_agg(coalesce(a.attname, '') ORDER BY k.ord)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class c ON c.oid = ix.indrelid
CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE c.relnamespace = current_schema()::regnamespace AND ix.indisunique
  AND c.relname <> 'alembic_version'
GROUP BY 1, 2
"""
_TABLES_WITHOUT_USER_ID = """
SELECT t.table_name FROM information_schema.tables t
WHERE t.table_schema = current_schema() AND t.table_name <> 'alembic_version'
  AND NOT EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema =
      t.table_schema AND c.table_name = t.table_name AND c.column_name = 'user_id')
"""

# Tables without a user_id column.
TABLES_WITHOUT_USER_ID = {
    # The distribution key's own table: its id *is* the user id (a distributed table by id).
    "users",
    # Counters keyed by a hash of a client address or an email, before anyone signs in;
    # UNLOGGED and disposable: a reference-free local table on every node, or Redis.
    "rate_limit_counters",
}

# Unique indexes without user_id, and why each may stay so.
ALLOWED: dict[tuple[str, str], str] = {
    ("users", "pk_users"): "the user's own id: the distribution key itself",
    # Looked up before the user is known: global by nature. On Citus each becomes a small
    # lookup table distributed by its own key (email_key / token_hash -> user_id).
    ("users", "uq_users_email_key"): "login finds the user by email",
    ("refresh_tokens", "uq_refresh_tokens_token_hash"): "refresh finds the token by hash",
    ("api_tokens", "uq_api_tokens_token_hash"): "a request finds its API token by hash",
    ("event_tickets", "pk_event_tickets"): "an EventSource redeems its ticket by hash",
    ("rate_limit_counters", "pk_rate_limit_counters"): "no user: address or email counters",
    # Random UUID primary keys. Every statement already filters by user_id as well, so on
    # Citus each would become (user_id, id) — a migration that rewrites the index (and the
    # foreign keys tasks.list_id / tasks.parent_id would take user_id too). Not free on
    # the largest tables, so not done before it is needed (docs/scaling.md).
    ("tasks", "pk_tasks"): "random UUID; would become (user_id, id)",
    ("lists", "pk_lists"): "random UUID; would become (user_id, id)",
    ("refresh_tokens", "pk_refresh_tokens"): "random UUID; would become (user_id, id)",
    ("api_tokens", "pk_api_tokens"): "random UUID; would become (user_id, id)",
    ("downloads", "pk_downloads"): "random UUID; would become (user_id, id)",
    ("reviews", "pk_reviews"): "random UUID; would become (user_id, id)",
    ("task_history", "uq_task_history_id"): "the entry's public id; would become (user_id, id)",
    ("webhooks", "pk_webhooks"): "random UUID; would become (user_id, id)",
    # The delivery's id is its `webhook-id` header; webhook_id would follow (user_id, ...).
    ("webhook_deliveries", "pk_webhook_deliveries"): "random UUID; would become (user_id, id)",
}


async def test_every_table_carries_user_id_but_the_listed_ones(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.text(_TABLES_WITHOUT_USER_ID))).all()
    assert {row[0] for row in rows} == TABLES_WITHOUT_USER_ID


async def test_unique_constraints_without_user_id_are_exactly_the_allowed_ones(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.text(_UNIQUE_INDEXES))).all()
    assert len(rows) > len(ALLOWED)  # the ones with user_id are there too
    without = {(table, index) for table, index, columns in rows if "user_id" not in columns}
    assert without - ALLOWED.keys() == set(), "give these user_id, or allow them with a reason"
    assert ALLOWED.keys() - without == set(), "these include user_id now: drop them from ALLOWED"
