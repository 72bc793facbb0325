"""The benchmark's own database: on DATABASE_URL's server, or in an embedded PostgreSQL.

Either way it is created fresh for the run (dropped first if a previous run left it behind)
and dropped again at the end; an embedded server is stopped and its directory removed.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.console import say
from bench.signals import uninterruptible
from taskapp.adapters.embedded_postgres import EmbeddedPostgres

_SAFE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_CONNECT_TIMEOUT_SECONDS = 10
_DDL_TIMEOUT_SECONDS = 60


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database; a plain postgresql:// URL."""
    parsed = make_url(url).set(drivername="postgresql", database=name)
    return parsed.render_as_string(hide_password=False)


class DatabaseInUse(RuntimeError):
    pass


async def _recreate(server_url: str, name: str, *, create: bool) -> None:
    connection = await asyncpg.connect(server_url, timeout=_CONNECT_TIMEOUT_SECONDS)
    try:
        if create:  # at the start: never pull the database from under someone else
            sessions = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name
            )
            if sessions:
                raise DatabaseInUse(
                    f"database {name} has {sessions} open session(s): another benchmark "
                    "may be running; wait for it or choose another --database-name"
                )
        # The name is checked against _SAFE_NAME: identifiers cannot be bind parameters.
        await connection.execute(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', timeout=_DDL_TIMEOUT_SECONDS
        )
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"', timeout=_DDL_TIMEOUT_SECONDS)
    finally:
        await connection.close(timeout=_CONNECT_TIMEOUT_SECONDS)


@contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """Create database `name` on the server of `server_url`; drop it afterwards."""
    if not _SAFE_NAME.fullmatch(name):
        raise ValueError(f"unsafe database name {name!r}: use lower-case letters, digits, _")
    maintenance_url = with_database(server_url, make_url(server_url).database or "postgres")
    asyncio.run(_recreate(maintenance_url, name, create=True))
    say(f"created database {name}")
    try:
        yield with_database(server_url, name)
    finally:
        with uninterruptible():
            asyncio.run(_recreate(maintenance_url, name, create=False))
            say(f"dropped database {name}")


@contextmanager
def embedded_server() -> Iterator[str]:
    """An embedded PostgreSQL (the project's own adapter) in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="taskapp-bench-pg-") as directory:
        server = EmbeddedPostgres(Path(directory) / "postgres")
        say(f"starting an embedded PostgreSQL in {directory}")
        try:
            yield server.start()
        finally:
            with uninterruptible():
                server.stop()
                say("stopped the embedded PostgreSQL")


@contextmanager
def benchmark_database(database_url: str | None, name: str) -> Iterator[tuple[str, str]]:
    """(URL of a fresh database, "external" or "embedded")."""
    if database_url:
        with fresh_database(database_url, name) as url:
            yield url, "external"
        return
    with embedded_server() as server_url, fresh_database(server_url, name) as url:
        yield url, "embedded"
