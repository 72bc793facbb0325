"""Real `taskapp serve` processes for the tests that need them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def is_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_servers(
    count: int,
    workdir: Path,
    environment: dict[str, str],
    start_timeout: float = 60,
    log: Path | None = None,
    processes: list[subprocess.Popen[bytes]] | None = None,
) -> Iterator[list[str]]:
    """Start `count` servers with `environment` added to ours; yield their base URLs once
    all answer /health/ready; stop them (SIGTERM) afterwards, whatever happened. With `log`,
    their output (stdout and stderr) goes to that file instead of ours; `processes`, if
    given, receives the started processes (in the order of the URLs)."""
    ports = [free_port() for _ in range(count)]
    output = None if log is None else log.open("ab")
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "taskapp.entrypoints.cli", "serve", "--port", str(port)],
            env={**os.environ, **environment},
            cwd=workdir,
            stdout=output,
            stderr=None if output is None else subprocess.STDOUT,
        )
        for port in ports
    ]
    if processes is not None:
        processes.extend(started)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + start_timeout
        for url, process in zip(urls, started, strict=True):
            while not is_ready(url):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"taskapp serve did not become ready at {url}")
                time.sleep(0.2)
        yield urls
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)
        if output is not None:
            output.close()


def resident_bytes(pid: int) -> int:
    """The resident memory of a process and all its descendants (granian's workers), from
    /proc (Linux)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return total
