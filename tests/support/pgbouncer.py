"""A real PgBouncer (Debian's `pgbouncer`) in transaction mode in front of the test server.

Strict like a managed pooler: it refuses startup parameters it does not know, multiplexes
many client connections over a few server connections (`pool_size`), and hands a server
connection back after every transaction. `.ci/run` installs the package; where it cannot
be had, `unavailable_reason()` says why and the tests that need it skip with that reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.servers import free_port

_CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
# PgBouncer refuses to run as root; as root it is started with `-u` as this user (or as
# the embedded PostgreSQL's user, whose socket only it may open).
_UNPRIVILEGED_USER = "nobody"


def executable() -> str | None:
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def unavailable_reason() -> str | None:
    if executable() is None:
        return (
            "pgbouncer is not installed (Debian: apt-get install pgbouncer; .ci/run installs "
            "it when run as root): the PgBouncer and serverless tests need it"
        )
    return None


@dataclass(frozen=True)
class PgBouncer:
    port: int
    log: Path

    def url_for(self, database_url: str) -> str:
        """The same database (and user) through PgBouncer."""
        url = make_url(database_url)
        return f"postgresql://{url.username or 'postgres'}@127.0.0.1:{self.port}/{url.database}"


def _run_as(admin_url: str) -> str:
    """An unprivileged user that can reach the server: over a Unix socket (the embedded
    PostgreSQL), the user that owns the socket's directory (PostgreSQL's own); else nobody."""
    url = make_url(admin_url)
    host = url.host or str(url.query.get("host") or "")
    if host.startswith("/"):
        owner = pwd.getpwuid(Path(host).stat().st_uid).pw_name
        if owner != "root":
            return owner
    return _UNPRIVILEGED_USER


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _server_line(admin_url: str) -> str:
    """`* = host=... port=... user=... password=...`: every database name, as the test
    server's user (so clients need no password: auth_type any, loopback only)."""
    url = make_url(admin_url)
    host = url.host or str(url.query.get("host") or "")
    parts = [f"host={_quote(host or '127.0.0.1')}", f"port={url.port or 5432}"]
    parts.append(f"user={_quote(url.username or 'postgres')}")
    if url.password:
        parts.append(f"password={_quote(str(url.password))}")
    return "* = " + " ".join(parts)


@contextmanager
def running_pgbouncer(admin_url: str, workdir: Path, pool_size: int = 4) -> Iterator[PgBouncer]:
    program = executable()
    if program is None:
        raise RuntimeError(unavailable_reason())
    port = free_port()
    config = workdir / "pgbouncer.ini"
    log = workdir / "pgbouncer.log"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                _server_line(admin_url),
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = any",
                "pool_mode = transaction",
                f"default_pool_size = {pool_size}",
                "min_pool_size = 0",
                "reserve_pool_size = 0",
                "max_client_conn = 1000",
                # Neon's pooler: 120 s. Shorter here, so a client that waits is a failure.
                "query_wait_timeout = 30",
                "",
            ]
        )
    )
    command = [program, str(config)]
    if os.geteuid() == 0:
        workdir.chmod(0o755)
        config.chmod(0o644)
        command[1:1] = ["-u", _run_as(admin_url)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(port, process, log)
        yield PgBouncer(port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited at start:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"pgbouncer did not listen on {port}:\n{log.read_text()}")
