"""Seed data: accounts through the API (real Argon2 hashes), the bulk rows through SQL."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from bench.api import Account, Api
from bench.console import say
from bench.seed_sql import (
    INSERT_CROWD_TASKS,
    INSERT_CROWD_USERS,
    INSERT_HISTORY,
    INSERT_SYNC_TASKS,
    INSERT_TASKS,
)

_STATEMENT_TIMEOUT_SECONDS = 600
HISTORY_ROWS = 1_000_000
CHUNK_ROWS = 2_000
_PARALLEL_LOGINS = 4  # the server hashes 4 passwords at once per worker by default


@dataclass(frozen=True, slots=True)
class Sizes:
    tasks: int = 1_000  # GET/list/toggle
    stats_tasks: int = 10_000  # GET /stats/weekly
    history_rows: int = HISTORY_ROWS  # GET /history
    export_small: int = 10
    export_large: int = 100_000
    crowd_users: int = 64  # the extra many-users toggle scenario
    crowd_tasks: int = 16  # per crowd user
    sync_tasks: int = 10_000  # GET /sync: a full sync (each with its history entries)
    stream_users: int = 0  # users for live event streams (5 streams each)
    stream_tasks: int = 16  # per stream user: the tasks the event-delay writes toggle


@dataclass(frozen=True, slots=True)
class Seeded:
    tasks_user: Account  # `tasks` tasks: reads and toggles
    writer: Account  # POST /tasks (kept apart so the listing user stays at its size)
    login_user: Account  # POST /auth/login
    stats_user: Account
    history_user: Account
    export_small: Account
    export_large: Account
    task_ids: list[UUID]
    crowd: list[Account] = field(default_factory=list)
    crowd_tasks: list[tuple[UUID, UUID]] = field(default_factory=list)  # (user id, task id)
    sync_user: Account | None = None  # sync_tasks tasks with their log
    stream_users: list[Account] = field(default_factory=list)
    stream_tasks: dict[UUID, list[UUID]] = field(default_factory=dict)  # user id -> tasks

    def sync_account(self) -> Account:
        if self.sync_user is None:
            raise RuntimeError("the sync user was not seeded")
        return self.sync_user

    def logged_in(self, api: Api, accounts: list[Account]) -> list[str]:
        """An access token for each account, _PARALLEL_LOGINS at a time."""
        with ThreadPoolExecutor(_PARALLEL_LOGINS) as pool:
            return list(pool.map(api.login, accounts))

    def crowd_pairs(self, api: Api) -> list[tuple[str, UUID]]:
        """(access token, task id) for every crowd task; logs every crowd user in."""
        logged_in = self.logged_in(api, self.crowd)
        tokens = dict(zip([a.user_id for a in self.crowd], logged_in, strict=True))
        return [(tokens[user_id], task_id) for user_id, task_id in self.crowd_tasks]


def register_accounts(api: Api) -> dict[str, Account]:
    run = secrets.token_hex(4)
    password = secrets.token_urlsafe(18)  # 24 characters
    roles = ("tasks", "writer", "login", "stats", "history", "export-small", "export-large", "sync")
    return {role: api.register(f"bench-{role}-{run}@example.com", password) for role in roles}


async def _insert_chunked(
    connection: asyncpg.Connection, statement: str, user_id: UUID, rows: int
) -> None:
    """Insert `rows` rows for one user, CHUNK_ROWS per transaction.

    The counter triggers upsert the user's counter row once per inserted row, and inside
    one transaction those row versions cannot be pruned: one big INSERT slows down
    quadratically (100,000 rows took 60-90 s). Short transactions keep it linear.
    """
    for first in range(1, rows + 1, CHUNK_ROWS):
        last = min(first + CHUNK_ROWS - 1, rows)
        await connection.execute(statement, user_id, first, last, rows)


async def _crowd(
    connection: asyncpg.Connection, template: Account, users: int, tasks_each: int, kind: str
) -> tuple[list[Account], list[tuple[UUID, UUID]]]:
    run = f"{kind}-{secrets.token_hex(4)}"
    rows = await connection.fetch(INSERT_CROWD_USERS, template.user_id, run, users)
    crowd = [Account(row["email"], template.password, row["id"]) for row in rows]
    tasks = await connection.fetch(
        INSERT_CROWD_TASKS, [account.user_id for account in crowd], tasks_each
    )
    say(f"  {len(crowd)} {kind} users with {tasks_each} tasks each")
    return crowd, [(row["user_id"], row["id"]) for row in tasks]


async def _fill(url: str, accounts: dict[str, Account], sizes: Sizes) -> Seeded:
    connection = await asyncpg.connect(url, command_timeout=_STATEMENT_TIMEOUT_SECONDS)
    try:
        for role, count in (
            ("tasks", sizes.tasks),
            ("stats", sizes.stats_tasks),
            ("export-small", sizes.export_small),
            ("export-large", sizes.export_large),
        ):
            if count:
                await _insert_chunked(connection, INSERT_TASKS, accounts[role].user_id, count)
                say(f"  {count:,} tasks for {role}")
        if rows := sizes.history_rows:
            say(f"  {rows:,} history rows for history (about a minute)")
            await _insert_chunked(connection, INSERT_HISTORY, accounts["history"].user_id, rows)
        if count := sizes.sync_tasks:
            await _insert_chunked(connection, INSERT_SYNC_TASKS, accounts["sync"].user_id, count)
            say(f"  {count:,} tasks with their history entries for sync")
        crowd, crowd_tasks = (
            await _crowd(
                connection, accounts["writer"], sizes.crowd_users, sizes.crowd_tasks, "crowd"
            )
            if sizes.crowd_users
            else ([], [])
        )
        stream_users, stream_tasks = (
            await _crowd(
                connection, accounts["writer"], sizes.stream_users, sizes.stream_tasks, "stream"
            )
            if sizes.stream_users
            else ([], [])
        )
        by_user: dict[UUID, list[UUID]] = {}
        for user_id, task_id in stream_tasks:
            by_user.setdefault(user_id, []).append(task_id)
        say("  VACUUM ANALYZE")
        await connection.execute("VACUUM (ANALYZE)")
        task_ids = await connection.fetch(
            "SELECT id FROM tasks WHERE user_id = $1", accounts["tasks"].user_id
        )
    finally:
        await connection.close()
    return Seeded(
        tasks_user=accounts["tasks"],
        writer=accounts["writer"],
        login_user=accounts["login"],
        stats_user=accounts["stats"],
        history_user=accounts["history"],
        export_small=accounts["export-small"],
        export_large=accounts["export-large"],
        task_ids=[row["id"] for row in task_ids],
        crowd=crowd,
        crowd_tasks=crowd_tasks,
        sync_user=accounts["sync"] if sizes.sync_tasks else None,
        stream_users=stream_users,
        stream_tasks=by_user,
    )


def seed(api: Api, url: str, sizes: Sizes) -> Seeded:
    say("seeding: registering accounts through the API")
    return asyncio.run(_fill(url, register_accounts(api), sizes))
