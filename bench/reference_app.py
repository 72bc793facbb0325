"""The no-layers reference: what taskapp's benchmarked routes cost with nothing in between.

Litestar, one bare asyncpg pool per worker (DB_POOL_SIZE connections, taskapp's default 20),
no middleware, no dependency injection, no domain objects: per request, the bearer token is
checked (PyJWT, HS256, the same issuer/audience/claims as taskapp, verified tokens
remembered and their time checked on every request, as taskapp does), then ONE hand-written
SQL statement runs and its rows are encoded with msgspec into taskapp's envelope
`{success, data, popup, error}` with taskapp's field names.

Routes (the ones `make bench` compares):

    GET   /api/v1/tasks/{id}          one SELECT by (id, owner)
    GET   /api/v1/tasks?limit=&page=&offset=
                                      the page and its total in one SELECT (the total as a
                                      window count, as taskapp computes it)
    POST  /api/v1/tasks               INSERT the task and its CREATED history entry in one
                                      data-modifying CTE
    PATCH /api/v1/tasks/{id}/toggle   UPDATE + history INSERT in one data-modifying CTE
    GET   /api/v1/history?limit=&page=&offset=
                                      the page and the total from the user's history counter
    GET   /api/v1/sync?cursor=&limit= the tasks changed after the cursor, in the order of
                                      their last change (seq), each as it is now: one
                                      SELECT (tasks only: the benchmark's sync user has no
                                      lists)
    GET   /health/ready               SELECT 1

The writes are complete, correct writes on taskapp's schema: the counter triggers
(`task_counts`, `history_counts`) fire, and a history entry's `seq` is assigned by the
`task_history` trigger after it has locked the user's counter row, exactly as for taskapp's
own inserts, so `seq` order is commit order within a user. A toggle is one UPDATE that
flips the row it locks (a concurrent toggle re-reads the newest row version), bumps
`version` and writes the matching COMPLETED/REOPENED entry.

Configuration comes from the environment taskapp reads: DATABASE_URL, JWT_SECRET,
JWT_ISSUER, JWT_AUDIENCE, DB_POOL_SIZE. Serve it with `python -m bench.reference_app
--port P --workers N [--server uvicorn|granian]` (bench/reference_server.py starts it the
way taskapp is served).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import gc
import hashlib
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import jwt
import msgspec
from litestar import Litestar, Request, Response, get, patch, post

# ---------------------------------------------------------------------------------------
# Settings: taskapp's environment variables, taskapp's defaults where they can be read.


def _taskapp_defaults() -> tuple[str, str, int]:
    try:
        from taskapp.config import Settings

        defaults = Settings()
        return defaults.jwt_issuer, defaults.jwt_audience, defaults.db_pool_size
    except Exception:  # taskapp's config is being rewritten: fall back
        return "taskapp", "taskapp-api", 20


@dataclass(frozen=True, slots=True)
class ReferenceSettings:
    database_url: str
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str
    pool_size: int

    @classmethod
    def from_environment(cls) -> ReferenceSettings:
        issuer, audience, pool_size = _taskapp_defaults()
        url = os.environ.get("DATABASE_URL", "")
        for prefix in ("postgresql+asyncpg://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql://" + url.removeprefix(prefix)
        return cls(
            database_url=url,
            jwt_secret=os.environ.get("JWT_SECRET", ""),
            jwt_issuer=os.environ.get("JWT_ISSUER", issuer),
            jwt_audience=os.environ.get("JWT_AUDIENCE", audience),
            pool_size=int(os.environ.get("DB_POOL_SIZE", pool_size)),
        )


# ---------------------------------------------------------------------------------------
# The JSON shapes: taskapp's envelope and field names.


class TaskOut(msgspec.Struct):
    # In the order the statements below select the columns: TaskOut(*record).
    id: UUID
    title: str
    description: str | None
    is_completed: bool
    completed_at: Any  # datetime | None; msgspec encodes what asyncpg returns
    created_at: Any
    updated_at: Any
    version: int


class HistoryEntryOut(msgspec.Struct):
    id: UUID
    task_id: UUID
    task_title: str
    action_type: str
    description: str
    changes: msgspec.Raw | None  # stored as {"field": {"from": ..., "to": ...}}: as served
    timestamp: Any


class SyncTaskOut(msgspec.Struct):
    # taskapp's current task shape (what /sync serves), in SYNC_TASKS's column order.
    id: UUID
    list_id: UUID | None
    parent_id: UUID | None
    position: str | None
    title: str
    description: str | None
    is_completed: bool
    completed_at: Any
    due_date: Any
    due_at: Any
    priority: str
    labels: list[str]
    created_at: Any
    updated_at: Any
    version: int


class SyncPageOut(msgspec.Struct):
    tasks: list[SyncTaskOut]
    lists: list[Any]
    deleted_task_ids: list[UUID]
    deleted_list_ids: list[UUID]
    cursor: str
    has_more: bool


class PageOut(msgspec.Struct):
    items: list[Any]
    page: int
    limit: int
    total: int
    total_pages: int


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    details: None = None
    request_id: None = None


class Envelope(msgspec.Struct):
    success: bool
    data: Any
    popup: str | None
    error: ErrorBody | None


class TaskCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    description: Annotated[str, msgspec.Meta(max_length=5000)] | None = None


_JSON = "application/json; charset=utf-8"
_encode = msgspec.json.Encoder().encode
_decode_create = msgspec.json.Decoder(TaskCreate).decode
_TRIMMED = " \t\n\x0b\x0c\r"
_MAX_LIMIT = 100


def _ok(data: Any, popup: str | None = None, status: int = 200, **headers: str) -> Response[bytes]:
    body = _encode(Envelope(True, data, popup, None))
    return Response(body, status_code=status, media_type=_JSON, headers=headers or None)


def _error(status: int, code: str, message: str) -> Response[bytes]:
    body = _encode(Envelope(False, None, None, ErrorBody(code, message)))
    return Response(body, status_code=status, media_type=_JSON)


# ---------------------------------------------------------------------------------------
# The statements: one per request.

_TASK_COLUMNS = (
    "id, title, description, is_completed, completed_at, created_at, updated_at, version"
)

GET_TASK = f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"  # noqa: S608

# taskapp's listing: open first, newest first; the total as a window count over the user's
# rows (the same work taskapp asks PostgreSQL for).
LIST_TASKS = f"""
SELECT {_TASK_COLUMNS}, count(*) OVER () AS total
FROM tasks WHERE user_id = $1
ORDER BY is_completed, created_at DESC, id DESC
OFFSET $2 LIMIT $3
"""  # noqa: S608
COUNT_TASKS = "SELECT count(*) FROM tasks WHERE user_id = $1"  # only past the last page

# The task and its CREATED entry in one statement. `seq` is left to the history trigger
# (it numbers the entry after locking the user's history_counts row); the tasks trigger
# keeps task_counts exact.
CREATE_TASK = f"""
WITH task AS (
    INSERT INTO tasks (id, user_id, title, description, is_completed, completed_at,
                       created_at, updated_at, version)
    VALUES (gen_random_uuid(), $1, $2, $3, false, NULL, now(), now(), 1)
    RETURNING {_TASK_COLUMNS}, user_id
), entry AS (
    INSERT INTO task_history (id, user_id, task_id, task_title, action_type, description,
                              changes, created_at)
    SELECT gen_random_uuid(), user_id, id, title, 'CREATED', 'Created task ''' || title || '''',
           NULL, created_at
    FROM task
)
SELECT {_TASK_COLUMNS} FROM task
"""  # noqa: S608

# Flip, bump the version and log the matching entry, in one statement. The SET expressions
# read the row as it was; a concurrent toggle of the same row waits for the lock and then
# re-evaluates against the newest version (READ COMMITTED), so every toggle counts once.
TOGGLE_TASK = f"""
WITH task AS (
    UPDATE tasks SET
        is_completed = NOT is_completed,
        completed_at = CASE WHEN is_completed THEN NULL ELSE now() END,
        updated_at = now(),
        version = version + 1
    WHERE id = $1 AND user_id = $2
    RETURNING {_TASK_COLUMNS}, user_id
), entry AS (
    INSERT INTO task_history (id, user_id, task_id, task_title, action_type, description,
                              changes, created_at)
    SELECT gen_random_uuid(), user_id, id, title,
           CASE WHEN is_completed THEN 'COMPLETED' ELSE 'REOPENED' END,
           CASE WHEN is_completed THEN 'Completed' ELSE 'Reopened' END
               || ' task ''' || title || '''',
           NULL, updated_at
    FROM task
)
SELECT {_TASK_COLUMNS} FROM task
"""  # noqa: S608

# The page newest first along the (user_id, seq) key, and the total from the user's counter:
# one row even when the page is empty.
LIST_HISTORY = """
SELECT coalesce((SELECT total FROM history_counts WHERE user_id = $1), 0) AS total,
       page.id, page.task_id, page.task_title, page.action_type, page.description,
       page.changes::text AS changes, page.created_at
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT id, task_id, task_title, action_type, description, changes, created_at
    FROM task_history WHERE user_id = $1
    ORDER BY seq DESC OFFSET $2 LIMIT $3
) AS page ON true
"""


_SYNC_TASK_COLUMNS = (
    "t.id, t.list_id, t.parent_id, t.position, t.title, t.description, t.is_completed, "
    "t.completed_at, t.due_date, t.due_at, t.priority, t.labels, t.created_at, t.updated_at, "
    "t.version"
)
# The tasks changed after $2, each once, in the order of their last change, as they are now
# (a deleted one has no row: its id goes to deleted_task_ids). $3 is the limit + 1.
SYNC_TASKS = f"""
SELECT c.seq, c.task_id, {_SYNC_TASK_COLUMNS}
FROM (SELECT task_id, max(seq) AS seq FROM task_history
      WHERE user_id = $1 AND seq > $2 GROUP BY task_id ORDER BY seq LIMIT $3) AS c
LEFT JOIN tasks t ON t.id = c.task_id AND t.user_id = $1
ORDER BY c.seq
"""  # noqa: S608
_SYNC_LIMIT_DEFAULT, _SYNC_LIMIT_MAX = 500, 1000


def _cursor_tag(user_id: UUID) -> bytes:
    # taskapp's cursor (domain/model/sync.py): version byte, seq, a tag of the user.
    return hashlib.sha256(b"taskapp sync cursor " + user_id.bytes).digest()[:6]


def encode_cursor(user_id: UUID, seq: int) -> str:
    raw = b"\x01" + seq.to_bytes(8, "big") + _cursor_tag(user_id)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(user_id: UUID, text: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 15 or raw[:1] != b"\x01" or raw[9:] != _cursor_tag(user_id):
        return None
    return int.from_bytes(raw[1:9], "big")


# ---------------------------------------------------------------------------------------
# Authentication: the check taskapp makes (adapters/tokens.py), written out.

_REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "iss", "aud", "jti", "typ"]
_LEEWAY_SECONDS = 10.0
_VERIFIED_CACHE_SIZE = 10_000


class Unauthorized(Exception):
    pass


class TokenVerifier:
    def __init__(self, secret: str, issuer: str, audience: str) -> None:
        self._secret, self._issuer, self._audience = secret, issuer, audience
        self._verified: OrderedDict[bytes, tuple[UUID, float, float]] = OrderedDict()

    def user_id(self, scope: Any) -> UUID:
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        if header is None:
            raise Unauthorized("Authentication is required: send Authorization: Bearer <token>")
        scheme, _, token = header.partition(b" ")
        token = token.strip()
        if scheme.lower() != b"bearer" or not token:
            raise Unauthorized("The Authorization header must be: Bearer <token>")
        cached = self._verified.get(token)
        if cached is None:
            cached = self._verify(token)
            self._verified[token] = cached
            if len(self._verified) > _VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        else:
            self._verified.move_to_end(token)
        user_id, not_before, expires = cached
        now = time.time()
        if not not_before - _LEEWAY_SECONDS <= now < expires + _LEEWAY_SECONDS:
            raise Unauthorized("The access token is expired or not yet valid")
        return user_id

    def _verify(self, token: bytes) -> tuple[UUID, float, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            if claims["typ"] != "access":
                raise Unauthorized("The token is not an access token")
            return UUID(claims["sub"]), float(claims["nbf"]), float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError, AttributeError) as error:
            raise Unauthorized("The access token is invalid or expired") from error


# ---------------------------------------------------------------------------------------
# The app.


def _page(limit: int, page: int, offset: int | None) -> tuple[int, int] | Response[bytes]:
    if not 1 <= limit <= _MAX_LIMIT or page < 1 or (offset is not None and offset < 0):
        return _error(422, "VALIDATION_ERROR", "limit, page or offset out of range")
    return (page - 1) * limit if offset is None else offset, limit


def _raw(json_text: str | None) -> msgspec.Raw | None:
    return None if json_text is None else msgspec.Raw(json_text)


def _task_id(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def create_app(settings: ReferenceSettings | None = None) -> Litestar:
    settings = settings or ReferenceSettings.from_environment()
    tokens = TokenVerifier(settings.jwt_secret, settings.jwt_issuer, settings.jwt_audience)
    pools: list[asyncpg.Pool] = []  # one per worker process, opened at start-up

    async def open_pool() -> None:
        statement_timeout_ms = 15_000
        pools.append(
            await asyncpg.create_pool(
                settings.database_url,
                min_size=settings.pool_size,
                max_size=settings.pool_size,
                command_timeout=statement_timeout_ms / 1000 + 1,
                server_settings={
                    "application_name": "taskapp-reference",
                    "statement_timeout": str(statement_timeout_ms),
                },
            )
        )

    async def close_pool() -> None:
        for pool in pools:
            await pool.close()

    @get("/health/ready")
    async def ready() -> Response[bytes]:
        await pools[0].fetchval("SELECT 1")
        return _ok({"status": "ready"})

    @get("/api/v1/tasks/{task_id:str}")
    async def get_task(request: Request[Any, Any, Any], task_id: str) -> Response[bytes]:
        try:
            user_id = tokens.user_id(request.scope)
        except Unauthorized as error:
            return _error(401, "UNAUTHORIZED", str(error))
        key = _task_id(task_id)
        if key is None:
            return _error(422, "VALIDATION_ERROR", "task_id must be a UUID")
        row = await pools[0].fetchrow(GET_TASK, key, user_id)
        if row is None:
            return _error(404, "TASK_NOT_FOUND", "Task not found")
        task = TaskOut(*row)
        return _ok(task, ETag=f'"{task.version}"')

    @get("/api/v1/tasks")
    async def list_tasks(
        request: Request[Any, Any, Any], limit: int = 20, page: int = 1, offset: int | None = None
    ) -> Response[bytes]:
        try:
            user_id = tokens.user_id(request.scope)
        except Unauthorized as error:
            return _error(401, "UNAUTHORIZED", str(error))
        window = _page(limit, page, offset)
        if isinstance(window, Response):
            return window
        skip, limit = window
        rows = await pools[0].fetch(LIST_TASKS, user_id, skip, limit)
        if rows:
            total = rows[0][8]
        elif skip == 0:
            total = 0
        else:  # past the last page (not on the benchmarked path)
            total = await pools[0].fetchval(COUNT_TASKS, user_id)
        items = [TaskOut(*row[:8]) for row in rows]
        return _ok(PageOut(items, skip // limit + 1, limit, total, -(-total // limit)))

    @post("/api/v1/tasks")
    async def create_task(request: Request[Any, Any, Any]) -> Response[bytes]:
        try:
            user_id = tokens.user_id(request.scope)
        except Unauthorized as error:
            return _error(401, "UNAUTHORIZED", str(error))
        try:
            body = _decode_create(await request.body())
        except msgspec.ValidationError as error:
            return _error(422, "VALIDATION_ERROR", str(error))
        except msgspec.DecodeError:
            return _error(400, "VALIDATION_ERROR", "the body is not valid JSON")
        title = body.title.strip(_TRIMMED)
        description = body.description or None
        if not title or "\x00" in title or (description is not None and "\x00" in description):
            return _error(422, "VALIDATION_ERROR", "title must not be empty or contain NUL")
        row = await pools[0].fetchrow(CREATE_TASK, user_id, title, description)
        task = TaskOut(*row)
        return _ok(
            task,
            "TASK_CREATED",
            201,
            ETag=f'"{task.version}"',
            Location=f"/api/v1/tasks/{task.id}",
        )

    @patch("/api/v1/tasks/{task_id:str}/toggle")
    async def toggle_task(request: Request[Any, Any, Any], task_id: str) -> Response[bytes]:
        try:
            user_id = tokens.user_id(request.scope)
        except Unauthorized as error:
            return _error(401, "UNAUTHORIZED", str(error))
        key = _task_id(task_id)
        if key is None:
            return _error(422, "VALIDATION_ERROR", "task_id must be a UUID")
        row = await pools[0].fetchrow(TOGGLE_TASK, key, user_id)
        if row is None:
            return _error(404, "TASK_NOT_FOUND", "Task not found")
        task = TaskOut(*row)
        popup = "TASK_COMPLETED" if task.is_completed else "TASK_REOPENED"
        return _ok(task, popup, ETag=f'"{task.version}"')

    @get("/api/v1/history")
    async def list_history(
        request: Request[Any, Any, Any], limit: int = 20, page: int = 1, offset: int | None = None
    ) -> Response[bytes]:
        try:
            user_id = tokens.user_id(request.scope)
        except Unauthorized as error:
            return _error(401, "UNAUTHORIZED", str(error))
        window = _page(limit, page, offset)
        if isinstance(window, Response):
            return window
        skip, limit = window
        rows = await pools[0].fetch(LIST_HISTORY, user_id, skip, limit)
        total = rows[0][0]
        items = [
            HistoryEntryOut(r[1], r[2], r[3], r[4], r[5], _raw(r[6]), r[7])
            for r in rows
            if r[1] is not None
        ]
        return _ok(PageOut(items, skip // limit + 1, limit, total, -(-total // limit)))

    @get("/api/v1/sync")
    async def sync(
        request: Request[Any, Any, Any], cursor: str | None = None, limit: int = _SYNC_LIMIT_DEFAULT
    ) -> Response[bytes]:
        try:
            user_id = tokens.user_id(request.scope)
        except Unauthorized as error:
            return _error(401, "UNAUTHORIZED", str(error))
        after = 0 if cursor is None else decode_cursor(user_id, cursor)
        if after is None or not 1 <= limit <= _SYNC_LIMIT_MAX:
            return _error(422, "VALIDATION_ERROR", "cursor or limit out of range")
        rows = await pools[0].fetch(SYNC_TASKS, user_id, after, limit + 1)
        has_more = len(rows) > limit
        rows = rows[:limit]
        tasks = [SyncTaskOut(*row[2:]) for row in rows if row[2] is not None]
        deleted = [row[1] for row in rows if row[2] is None]
        last = rows[-1][0] if rows else after
        page = SyncPageOut(tasks, [], deleted, [], encode_cursor(user_id, last), has_more)
        return _ok(page)

    def settle_garbage_collector() -> None:
        """The same process-level setting as taskapp (entrypoints/http/app.py), so the
        ratio measures the layers, not the runtime's tuning."""
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)

    return Litestar(
        route_handlers=[
            ready,
            get_task,
            list_tasks,
            create_task,
            toggle_task,
            list_history,
            sync,
        ],
        on_startup=[open_pool, settle_garbage_collector],
        on_shutdown=[close_pool],
        openapi_config=None,
        debug=False,
    )


# ---------------------------------------------------------------------------------------
# Serving it: the same server taskapp uses, with the same worker count.

SERVERS = ("uvicorn", "granian")


def serve(server: str, host: str, port: int, workers: int) -> None:
    target = "bench.reference_app:create_app"
    if server == "granian":
        from granian import Granian
        from granian.constants import Interfaces

        Granian(
            target,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            factory=True,
            log_access=False,
        ).serve()
        return
    import uvicorn

    # As `taskapp serve` runs uvicorn (entrypoints/cli.py): loop and http "auto" (uvloop,
    # httptools), proxy headers on, no uvicorn access log; an import string with workers.
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": True,
        "timeout_graceful_shutdown": 20,
    }
    if workers > 1:
        uvicorn.run(target, factory=True, workers=workers, **common)
    else:
        uvicorn.run(create_app(), **common)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reference_app", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", choices=SERVERS, default="uvicorn")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL") or not os.environ.get("JWT_SECRET"):
        print("reference_app: DATABASE_URL and JWT_SECRET are required", file=sys.stderr)
        return 2
    serve(args.server, args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
