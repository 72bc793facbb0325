"""The scenarios: what each one sends, as whom, with how many connections, and its target."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.api import Account, Api
from bench.seed import Seeded
from bench.wrk import RequestShape

TASK_IDS_FILE = "task-ids.txt"  # in the scratch directory: the tasks user's task ids


@dataclass(frozen=True, slots=True)
class Target:
    """What a 2-core machine with 1 worker should reach (the issue's targets)."""

    min_rps: float | None = None
    max_p99_ms: float | None = None
    zero_errors: bool = False

    def describe(self) -> str:
        parts = []
        if self.min_rps is not None:
            parts.append(f">={self.min_rps:,.0f}/s")
        if self.max_p99_ms is not None:
            parts.append(f"p99<={self.max_p99_ms:.0f}")
        if self.zero_errors:
            parts.append("0 err")
        return " ".join(parts) or "-"


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    label: str
    method: str
    path: str
    account: Callable[[Seeded], Account]
    connections: int = 64
    authenticated: bool = True
    random_ids: bool = False
    body: Callable[[Seeded], str] | None = None
    crowd: bool = False  # many users (Seeded.crowd), each request as a random one of them
    background: Scenario | None = None  # runs concurrently; the foreground is reported
    target: Target = Target()
    # Served by the no-layers reference too (bench/reference_app.py): measured against it in
    # the same run, at every worker count. The others run at the first worker count only.
    compared: bool = False
    single_round: bool = False  # one round per server even when --rounds asks for more
    # Authenticate with an API token with these scopes instead of a session's JWT.
    api_token_scopes: tuple[str, ...] | None = None

    @property
    def hashes_passwords(self) -> bool:
        return self.path.endswith("/auth/login")

    def shape(self, api: Api, seeded: Seeded, scratch: Path) -> RequestShape:
        """Log in now (fresh 15-minute tokens for every scenario) and build the request."""
        pairs_file = None
        if self.crowd:
            pairs_file = scratch / f"pairs-{self.key}.txt"
            pairs = seeded.crowd_pairs(api)
            pairs_file.write_text("".join(f"{token} {task_id}\n" for token, task_id in pairs))
        return RequestShape(
            method=self.method,
            path=self.path,
            token=self._token(api, seeded) if self.authenticated else None,
            body=self.body(seeded) if self.body else None,
            ids_file=scratch / TASK_IDS_FILE if self.random_ids else None,
            pairs_file=pairs_file,
        )

    def _token(self, api: Api, seeded: Seeded) -> str:
        if self.api_token_scopes is not None:
            return api.api_token(self.account(seeded), self.api_token_scopes)
        return api.login(self.account(seeded))


def _login_body(seeded: Seeded) -> str:
    account = seeded.login_user
    return json.dumps({"email": account.email, "password": account.password})


def _move_body(seeded: Seeded) -> str:
    # Each move puts a random task right after the first one: a gap that keeps being split
    # (the worst case for key length), written as one guarded statement per move.
    return json.dumps({"after_id": str(seeded.task_ids[0])})


def _task_body(seeded: Seeded) -> str:
    return json.dumps({"title": "Benchmark task", "description": "created by wrk"})


LOGIN = Scenario(
    key="login",
    label="POST /auth/login (Argon2)",
    method="POST",
    path="/api/v1/auth/login",
    account=lambda s: s.login_user,
    authenticated=False,
    body=_login_body,
)
LOGIN_FLOOD = Scenario(
    key="login_flood",
    label="POST /auth/login (background)",
    method="POST",
    path="/api/v1/auth/login",
    account=lambda s: s.login_user,
    connections=32,
    authenticated=False,
    body=_login_body,
)
GET_TASK = Scenario(
    key="get_task",
    label="GET /tasks/{id}",
    method="GET",
    path="/api/v1/tasks/{id}",
    account=lambda s: s.tasks_user,
    random_ids=True,
    target=Target(min_rps=1600, max_p99_ms=80),
    compared=True,
)
# The same request with an API token: its check must cost what the JWT check costs.
GET_TASK_API_TOKEN = Scenario(
    key="get_task_api_token",
    label="GET /tasks/{id} (API token)",
    method="GET",
    path="/api/v1/tasks/{id}",
    account=lambda s: s.tasks_user,
    random_ids=True,
    target=Target(min_rps=1600, max_p99_ms=80),
    api_token_scopes=("tasks:read",),
)

SCENARIOS: tuple[Scenario, ...] = (
    GET_TASK,
    GET_TASK_API_TOKEN,
    Scenario(
        key="list_tasks",
        label="GET /tasks?limit=20",
        method="GET",
        path="/api/v1/tasks?limit=20",
        account=lambda s: s.tasks_user,
        target=Target(min_rps=1100),
        compared=True,
    ),
    Scenario(
        key="create_task",
        label="POST /tasks",
        method="POST",
        path="/api/v1/tasks",
        account=lambda s: s.writer,
        body=_task_body,
        target=Target(min_rps=1100),
        compared=True,
    ),
    Scenario(
        key="toggle_task",
        label="PATCH /tasks/{id}/toggle",
        method="PATCH",
        path="/api/v1/tasks/{id}/toggle",
        account=lambda s: s.tasks_user,
        random_ids=True,
        target=Target(min_rps=1000),
        compared=True,
    ),
    Scenario(
        key="list_label_due",
        label="GET /tasks?label&sort=due (100k)",
        method="GET",
        path="/api/v1/tasks?label=focus&sort=due&limit=20",
        account=lambda s: s.export_large,
    ),
    Scenario(
        key="move_task",
        label="POST /tasks/{id}/move",
        method="POST",
        path="/api/v1/tasks/{id}/move",
        account=lambda s: s.tasks_user,
        random_ids=True,
        body=_move_body,
    ),
    Scenario(
        key="toggle_task_crowd",
        label="PATCH toggle, 64 users (extra)",
        method="PATCH",
        path="/api/v1/tasks/{id}/toggle",
        account=lambda s: s.tasks_user,
        crowd=True,
    ),
    Scenario(
        key="history",
        label="GET /history?limit=20 (1M rows)",
        method="GET",
        path="/api/v1/history?limit=20",
        account=lambda s: s.history_user,
        target=Target(min_rps=900),
        compared=True,
    ),
    Scenario(
        key="stats",
        label="GET /stats/weekly (10k tasks)",
        method="GET",
        path="/api/v1/stats/weekly",
        account=lambda s: s.stats_user,
        target=Target(min_rps=700),
    ),
    LOGIN,
    Scenario(
        key="get_task_256",
        label="GET /tasks/{id} @256 conns",
        method="GET",
        path="/api/v1/tasks/{id}",
        account=lambda s: s.tasks_user,
        random_ids=True,
        connections=256,
        target=Target(max_p99_ms=300, zero_errors=True),
        compared=True,
        single_round=True,
    ),
    # One page of a full sync (no cursor, the default limit of 500) of 10,000 tasks: the
    # heaviest page (it groups the whole log). 16 connections: each answer is ~200 KB.
    Scenario(
        key="sync_page",
        label="GET /sync (500 of 10k tasks)",
        method="GET",
        path="/api/v1/sync",
        account=lambda s: s.sync_account(),
        connections=16,
        compared=True,
    ),
    Scenario(
        key="get_task_during_logins",
        label="GET /tasks/{id} + 32 conns login",
        method="GET",
        path="/api/v1/tasks/{id}",
        account=lambda s: s.tasks_user,
        random_ids=True,
        background=LOGIN_FLOOD,
        target=Target(max_p99_ms=250),
    ),
)

BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}

# Measurements that are not a wrk scenario (run after the scenarios, at the first worker
# count); `--only` selects them by these keys as well.
MEASUREMENTS: dict[str, str] = {
    "stream_memory": "server RSS with 0, 200 and 1,000 idle event streams",
    "event_delay": "write answered -> SSE event arrived, 100 writes/s over 200 streams",
    "sync_full": "a full GET /sync of 10,000 tasks, page by page",
    "notify_cost": "create and toggle with NOTIFY in the writes (trigger) vs after commit",
}
