"""`taskapp serve` end to end: embedded PostgreSQL, data kept across restarts, and a
graceful stop (the in-flight download finishes, then the API stops, then the database)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.servers import free_port, is_ready, running_servers

PASSWORD = "correct horse battery staple"


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        environment.update(TASKAPP_DATA_DIR=str(data_dir), LOG_LEVEL="WARNING")
        command = [
            sys.executable,
            "-m",
            "taskapp.entrypoints.cli",
            "serve",
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(command, env=environment, cwd=data_dir)
        deadline = time.monotonic() + 90
        while not is_ready(self.url):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.process.kill()
                pytest.fail("taskapp serve did not become ready")
            time.sleep(0.3)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def postgres_running(data_dir: Path) -> bool:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Not under pytest's temporary root: as root, pgserver runs PostgreSQL as its own user
    and opens the path to it, and any other pytest session that starts meanwhile makes that
    root private again (0700), so initdb failed for want of access."""
    directory = Path(tempfile.mkdtemp(prefix="taskapp-serve-"))
    yield directory
    pid_file = directory / "postgres" / "postmaster.pid"
    if postgres_running(directory):  # never leave a server behind, even when a test fails
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
    shutil.rmtree(directory, ignore_errors=True)


async def _bulk_insert(data_dir: Path, email: str, count: int) -> None:
    connection = await asyncpg.connect(host=str(data_dir / "postgres"), user="postgres")
    try:
        await connection.execute(
            "INSERT INTO tasks (id, user_id, title, is_completed, created_at, updated_at, version)"
            " SELECT gen_random_uuid(), u.id, 'bulk ' || n, false, now(), now(), 1"
            " FROM users u, generate_series(1, $2) AS n WHERE u.email = $1",
            email,
            count,
        )
    finally:
        await connection.close()


@pytest.mark.slow
def test_serve_keeps_data_and_stops_gracefully(data_dir: Path) -> None:
    server = Server(data_dir)
    email = "keeper@example.com"
    registered = httpx.post(
        f"{server.url}/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201
    assert server.stop() == 0
    assert not postgres_running(data_dir)

    server = Server(data_dir)  # restart: same data directory, same rows
    login = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    token = login.json()["data"]["access_token"]
    count = 40_000
    asyncio.run(_bulk_insert(data_dir, email, count))

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream(
        "GET", f"{server.url}/api/v1/tasks/export?format=csv", headers=headers, timeout=60
    ) as response:
        chunks = response.iter_bytes()
        received = next(chunks)  # the download is under way...
        server.process.send_signal(signal.SIGTERM)  # ...when the server is asked to stop
        received += b"".join(chunks)
    assert response.status_code == 200
    assert received.count(b"\r\n") == count + 1  # header + every row: it finished
    assert server.process.wait(timeout=60) == 0
    assert not postgres_running(data_dir)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie is dead, only not yet reaped
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    return False


def _killed_alone(server: subprocess.Popen[bytes], workers: list[int]) -> None:
    """SIGKILL the server process only; every worker must be gone within 30 s."""
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    deadline = time.monotonic() + 30
    while any(_alive(worker) for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    orphans = [worker for worker in workers if _alive(worker)]
    for orphan in orphans:  # leave nothing behind, then fail
        os.kill(orphan, signal.SIGKILL)
    assert orphans == [], "workers outlived their server"


def _orphan_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(data_dir),
        "JWT_SECRET": "orphan-test-secret-" + "o" * 40,
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "2",
    }


needs_proc_children = pytest.mark.skipif(
    not Path(f"/proc/self/task/{os.getpid()}/children").exists(),
    reason="this kernel does not list a task's children in /proc (CONFIG_PROC_CHILDREN)",
)


@needs_proc_children
@pytest.mark.slow
def test_workers_do_not_outlive_a_server_killed_alone(database_url: str, tmp_path: Path) -> None:
    """SIGKILL of the server process only (as the OOM killer does) while it serves: its
    workers end too (asgi.end_with_the_server), so the port is free and a new server can
    start on it."""
    processes: list[subprocess.Popen[bytes]] = []
    environment = _orphan_environment(database_url, tmp_path)
    with running_servers(1, tmp_path, environment, processes=processes) as (url,):
        (server,) = processes
        workers = _children(server.pid)
        assert len(workers) == 2, workers
        _killed_alone(server, workers)
    port = int(url.rsplit(":", 1)[1])
    assert _free_soon(port), f"port {port} is still held"


def _free_soon(port: int, seconds: float = 10) -> bool:
    """Whether a server can bind `port` within `seconds` (as servers do, past TIME_WAIT): a
    killed worker's group leader is a zombie before its other threads have let go of it."""
    deadline = time.monotonic() + seconds
    while True:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
                probe.listen()
            except OSError:
                if time.monotonic() > deadline:
                    return False
            else:
                return True
        time.sleep(0.1)


@needs_proc_children
@pytest.mark.slow
def test_workers_still_loading_do_not_outlive_a_server_killed_alone(
    database_url: str, tmp_path: Path
) -> None:
    """Killed while its workers still load the app (before or after each asks the kernel to
    end it with its parent): none outlives it either."""
    command = [sys.executable, "-m", "taskapp.entrypoints.cli", "serve", "--port", "0"]
    server = subprocess.Popen(
        command, env=_orphan_environment(database_url, tmp_path), cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 30
        while len(workers := _children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(workers) == 2, workers
        _killed_alone(server, workers)
    finally:
        with contextlib.suppress(ProcessLookupError):
            server.kill()
        server.wait(timeout=10)
