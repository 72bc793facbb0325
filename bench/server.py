"""Run taskapp as production does: `taskapp serve` in its own process, workers and all."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from bench import processes
from bench.console import say
from bench.signals import uninterruptible

_READY_TIMEOUT_SECONDS = 120
_STOP_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def taskapp_executable() -> str:
    beside_python = Path(sys.executable).with_name("taskapp")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("taskapp")
    if found is None:
        raise RuntimeError("the `taskapp` command is not installed: run `make bench`")
    return found


class Server:
    def __init__(
        self, process: subprocess.Popen[bytes], port: int, log: Path, name: str = "taskapp"
    ) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.name = name

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_ready(self, timeout: float = _READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
                try:
                    if client.get("/health/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL for the whole group if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop in time: killing it")
        # Its own session (start_new_session), so the group id is its pid: this reaches
        # only the server and its workers.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=_STOP_TIMEOUT_SECONDS)


def server_environment(database_url: str, data_dir: Path, jwt_secret: str) -> dict[str, str]:
    """taskapp's environment; the reference reads the same (DATABASE_URL, JWT_*, DB_POOL_SIZE)."""
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=database_url,
        RATE_LIMIT_ENABLED="false",
        LOG_LEVEL="WARNING",
        JWT_SECRET=jwt_secret,
        ENVIRONMENT="production",
        TASKAPP_DATA_DIR=str(data_dir),
    )
    return environment


def new_jwt_secret() -> str:
    return secrets.token_urlsafe(48)


def taskapp_command(port: int, workers: int) -> list[str]:
    command = [taskapp_executable(), "serve", "--port", str(port), "--workers", str(workers)]
    return [*command, "--no-access-log"]


def reference_command(port: int, workers: int, server: str) -> list[str]:
    """The no-layers reference (bench/reference_app.py) on the same server, same workers."""
    module = ["-m", "bench.reference_app", "--port", str(port), "--workers", str(workers)]
    return [sys.executable, *module, "--server", server]


def detect_server(pid: int) -> str:
    """Which HTTP server a running `taskapp serve` uses: granian's native module mapped into
    any process of the tree means granian, else uvicorn. BENCH_REFERENCE_SERVER overrides."""
    forced = os.environ.get("BENCH_REFERENCE_SERVER")
    if forced:
        return forced
    return "granian" if processes.maps_mention(pid, "granian") else "uvicorn"


@contextmanager
def running_server(
    name: str, command: list[str], environment: dict[str, str], port: int, scratch: Path
) -> Iterator[Server]:
    """`command` serving on 127.0.0.1:port, ready to answer; stopped on the way out."""
    log = scratch / f"{name}.log"
    say(f"starting {name}: {' '.join(command[1:])}")
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own commands with arguments we built
            command,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the bench, which stops it in order
        )
    server = Server(process, port, log, name)
    try:
        server.wait_ready()
        say(f"{name} is ready on {server.base_url} (pid {server.pid})")
        yield server
    finally:
        with uninterruptible():
            server.stop()
            say(f"stopped {name}")
