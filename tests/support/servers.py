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
) -> Iterator[list[str]]:
    """Start `count` servers with `environment` added to ours; yield their base URLs once
    all answer /health/ready; stop them (SIGTERM) afterwards, whatever happened. With `log`,
    their output (stdout and stderr) goes to that file instead of ours."""
    ports = [free_port() for _ in range(count)]
    output = None if log is None else log.open("ab")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "taskapp.entrypoints.cli", "serve", "--port", str(port)],
            env={**os.environ, **environment},
            cwd=workdir,
            stdout=output,
            stderr=None if output is None else subprocess.STDOUT,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + start_timeout
        for url, process in zip(urls, processes, strict=True):
            while not is_ready(url):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"taskapp serve did not become ready at {url}")
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        if output is not None:
            output.close()
