"""`make fuzz`: the schemathesis CLI with every check and every phase against a real
`taskapp serve`, on a throwaway database, signed in as a user signed up for the run.

    python -m tests.support.live_fuzz [more `schemathesis run` options, e.g. --seed 7]

The database: with DATABASE_URL (a URL of an existing PostgreSQL server that may create
databases), a database of the run's own there, dropped afterwards; without it, an embedded
PostgreSQL in a temporary directory. The exit status is the CLI's: non-zero on any failure.
The rules the answers are judged by beyond the built-in checks are in
tests/support/schemathesis_rules.py (the in-suite test uses the same module).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from tests import database
from tests.support.servers import running_servers

ROOT = Path(__file__).resolve().parents[2]
RULES = "tests.support.schemathesis_rules"

# Operations the live run leaves out, and why.
EXCLUDED = (
    # A live stream (text/event-stream) that stays open until the client leaves: there is
    # no answer to validate request/response style. tests/api/test_events.py tests it.
    "GET /api/v1/events",
    # Creating or changing a webhook resolves its URL's host (only public addresses are
    # allowed): generated URLs would send DNS queries for random names from the machine
    # running the fuzzer. The in-suite test covers both (no name resolves there).
    "POST /api/v1/webhooks",
    "PATCH /api/v1/webhooks/{webhook_id}",
)


def schemathesis_command(base_url: str, token: str, options: Sequence[str]) -> list[str]:
    excluded = [arg for name in EXCLUDED for arg in ("--exclude-name", name)]
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/schema/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--request-timeout",  # a request that hangs is a failure, not a stalled run
        "30",
        *excluded,
        *options,
    ]


def server_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(data_dir),
        "JWT_SECRET": secrets.token_urlsafe(48),
        # Webhooks can be created (and every webhook route fuzzed) without anything sent.
        "WEBHOOK_DELIVERY": "false",
        # The fuzzer should reach the handlers of register and login rather than stop at
        # the limiter after 30 tries (tests/api/test_rate_limits.py tests the limits).
        "RATE_LIMIT_ENABLED": "false",
        # One token for the whole run, which can outlast the default 15 minutes.
        "ACCESS_TOKEN_TTL_SECONDS": "86400",
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
    }


def sign_up(base_url: str) -> str:
    """A new user's access token."""
    credentials = {"email": f"fuzz-{secrets.token_hex(6)}@example.com", "password": "x" * 16}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.post("/api/v1/auth/register", json=credentials).raise_for_status()
        answer = client.post("/api/v1/auth/login", json=credentials).raise_for_status()
    token: str = answer.json()["data"]["access_token"]
    return token


def still_signed_in(base_url: str, token: str) -> bool:
    """Whether the run's token still works: a run whose requests all answered 401 (after a
    revocation, say) would have tested nothing beyond the sign-in check."""
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"{base_url}/api/v1/auth/me", headers=headers, timeout=30)
    return answer.status_code == 200


def fuzz(
    admin_url: str,
    options: Sequence[str],
    output: IO[str] | None = None,
    timeout_seconds: float | None = None,
) -> int:
    """One live run on a database of its own on the server at `admin_url`; the CLI's exit
    status (1 as well when the token stopped working). The CLI and the driver write to
    `output` (default: ours). With `timeout_seconds`, a run that takes longer is killed
    (subprocess.TimeoutExpired)."""
    out = output or sys.stdout
    database_url = asyncio.run(database.create_database(admin_url, prefix="taskapp_fuzz"))
    workdir = Path(tempfile.mkdtemp(prefix="taskapp-fuzz-"))
    log = workdir / "server.log"
    try:
        with running_servers(1, workdir, server_environment(database_url, workdir), log=log) as (
            base_url,
        ):
            token = sign_up(base_url)
            command = schemathesis_command(base_url, token, options)
            # In the run's own directory: schemathesis keeps a cache of the failures it
            # found there (and replays them first next time), hypothesis its examples.
            environment = {**os.environ, "SCHEMATHESIS_HOOKS": RULES, "PYTHONPATH": str(ROOT)}
            shown = " ".join(command[2:]).replace(token, "<token>")
            print("$", shown, file=out, flush=True)
            started = time.monotonic()
            status = subprocess.run(
                command,
                cwd=workdir,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=timeout_seconds,
            ).returncode
            print(f"schemathesis: exit {status} in {time.monotonic() - started:.0f} s", file=out)
            if not still_signed_in(base_url, token):
                print("the run's token no longer signs in: the run tested nothing", file=out)
                status = status or 1
        errors = log.read_text(errors="replace").strip()
        if errors:
            print(f"server log (warnings and errors):\n{errors[-20_000:]}", file=out)
        return status
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        asyncio.run(database.drop_database(admin_url, database_url))


@contextmanager
def postgres() -> Iterator[str]:
    """DATABASE_URL if set, else an embedded PostgreSQL in a temporary directory."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from taskapp.adapters.embedded_postgres import EmbeddedPostgres

    directory = Path(tempfile.mkdtemp(prefix="taskapp-fuzz-pg-"))
    embedded = EmbeddedPostgres(directory / "data")
    try:
        yield embedded.start()
    finally:
        embedded.stop()
        shutil.rmtree(directory, ignore_errors=True)


def main(argv: Sequence[str]) -> int:
    with postgres() as admin_url:
        return fuzz(admin_url, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
