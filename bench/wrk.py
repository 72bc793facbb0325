"""Drive wrk with bench/lua/scenario.lua and read back its machine-readable result line."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).with_name("lua") / "scenario.lua"
_RESULT_PREFIX = "BENCH_RESULT "
_GRACE_SECONDS = 30  # how long past its duration a wrk run may take before it is killed


@dataclass(frozen=True, slots=True)
class RequestShape:
    method: str
    path: str  # under the base URL; "{id}" is replaced per request from ids_file
    token: str | None = None
    body: str | None = None
    ids_file: Path | None = None
    pairs_file: Path | None = None  # "<token> <id>" lines: many users

    def environment(self) -> dict[str, str]:
        return {
            "BENCH_METHOD": self.method,
            "BENCH_PATH": self.path,
            "BENCH_TOKEN": self.token or "",
            "BENCH_BODY": self.body or "",
            "BENCH_IDS_FILE": str(self.ids_file or ""),
            "BENCH_PAIRS_FILE": str(self.pairs_file or ""),
        }


@dataclass(frozen=True, slots=True)
class WrkResult:
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok_per_second(self) -> float:
        ok = sum(n for status, n in self.statuses.items() if status.startswith("2"))
        return ok / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    @property
    def socket_error_count(self) -> int:
        return sum(self.socket_errors.values())


def parse(output: str, connections: int) -> WrkResult:
    for line in output.splitlines():
        if line.startswith(_RESULT_PREFIX):
            data = json.loads(line.removeprefix(_RESULT_PREFIX))
            latency = {k: v / 1000 for k, v in data["latency_us"].items()}
            errors = data["errors"]
            return WrkResult(
                connections=connections,
                requests=data["requests"],
                seconds=data["duration_us"] / 1_000_000,
                p50_ms=latency["p50"],
                p75_ms=latency["p75"],
                p90_ms=latency["p90"],
                p99_ms=latency["p99"],
                max_ms=latency["max"],
                mean_ms=latency["mean"],
                statuses=dict(sorted(data["statuses"].items())),
                socket_errors={k: errors[k] for k in ("connect", "read", "write", "timeout")},
            )
    raise RuntimeError(f"wrk printed no result line:\n{output[-2000:]}")


class WrkRun:
    """One wrk process; `result()` waits for it (bounded) and parses its output."""

    def __init__(self, process: subprocess.Popen[str], connections: int, seconds: int) -> None:
        self._process = process
        self._connections = connections
        self._seconds = seconds

    def result(self) -> WrkResult:
        try:
            output, errors = self._process.communicate(timeout=self._seconds + _GRACE_SECONDS)
        finally:
            self.kill()
        if self._process.returncode != 0:
            raise RuntimeError(f"wrk failed ({self._process.returncode}): {errors.strip()}")
        return parse(output, self._connections)

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=_GRACE_SECONDS)


@dataclass(frozen=True, slots=True)
class Wrk:
    executable: str
    base_url: str
    threads: int = 1
    timeout_seconds: int = 10  # slower answers count as socket timeouts, not latencies

    def start(self, shape: RequestShape, connections: int, seconds: int) -> WrkRun:
        command = [
            self.executable,
            f"--threads={min(self.threads, connections)}",
            f"--connections={connections}",
            f"--duration={seconds}s",
            f"--timeout={self.timeout_seconds}s",
            f"--script={SCRIPT}",
            self.base_url,
        ]
        process = subprocess.Popen(  # noqa: S603 - wrk, found on PATH, with our arguments
            command,
            env={**os.environ, **shape.environment()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C reaches the bench, which kills it
        )
        return WrkRun(process, connections, seconds)

    def run(self, shape: RequestShape, connections: int, seconds: int) -> WrkResult:
        run = self.start(shape, connections, seconds)
        try:
            return run.result()
        finally:
            run.kill()
