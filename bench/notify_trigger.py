"""Put migration 0011's per-change NOTIFY trigger back on `task_history` in the bench
database, and take it off again: the cost of notifying inside the writes, which migration
0014 ended (the app now sends the notices after commit, adapters/postgres/change_notices.py).
With the trigger back, the writes notify as they did before 0014 (the app's notices after
commit still go too: they cost the writes nothing). Only ever for the benchmark's own
database, and always taken off again (run.py does so in a `finally`)."""

from __future__ import annotations

import asyncio
import time

import asyncpg

TABLE = "task_history"
TRIGGER = "bench_task_history_notify"  # AFTER INSERT ON task_history: pg_notify per entry
_CREATE = (
    f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN PERFORM pg_notify('taskapp_changes', NEW.user_id::text); RETURN NULL; END; $$; "
    f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT ON {TABLE} "
    f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()"
)
_DROP = f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}; DROP FUNCTION IF EXISTS {TRIGGER}()"
_TIMEOUT_SECONDS = 30


async def _connect(url: str) -> asyncpg.Connection:
    """A connection, waiting for a free slot while the server is full (the machine's
    PostgreSQL is shared: other test suites may hold most of max_connections)."""
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while True:
        try:
            return await asyncpg.connect(url, timeout=_TIMEOUT_SECONDS)
        except asyncpg.TooManyConnectionsError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _set(url: str, enabled: bool) -> None:
    connection = await _connect(url)
    try:
        await connection.execute(_CREATE if enabled else _DROP, timeout=_TIMEOUT_SECONDS)
    finally:
        await connection.close(timeout=_TIMEOUT_SECONDS)


def set_enabled(url: str, enabled: bool) -> None:
    asyncio.run(_set(url, enabled))
