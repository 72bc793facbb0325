"""Server memory around an export (CSV, or iCalendar) and an import: does a big file grow
the process?"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

from bench.processes import tree_rss_mb

_EXPORT_TIMEOUT_SECONDS = 300
_SAMPLE_EVERY_SECONDS = 0.01
_SETTLE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ExportMemory:
    tasks: int
    rows: int
    megabytes: float
    seconds: float
    rss_before_mb: float
    rss_after_mb: float
    rss_peak_mb: float
    format: str = "csv"

    @property
    def growth_mb(self) -> float:
        return self.rss_after_mb - self.rss_before_mb

    @property
    def peak_growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb


class _PeakSampler(threading.Thread):
    """Samples the server's RSS every 10 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self._pid = pid
        self._stop_requested = threading.Event()
        self.peak = tree_rss_mb(pid)

    def run(self) -> None:
        while not self._stop_requested.wait(_SAMPLE_EVERY_SECONDS):
            self.peak = max(self.peak, tree_rss_mb(self._pid))

    def stop(self) -> float:
        self._stop_requested.set()
        self.join(timeout=5)
        return self.peak


def measure_export(
    base_url: str, token: str, server_pid: int, tasks: int, fmt: str = "csv"
) -> ExportMemory:
    time.sleep(_SETTLE_SECONDS)
    before = tree_rss_mb(server_pid)
    sampler = _PeakSampler(server_pid)
    sampler.start()
    received = newlines = 0
    started = time.perf_counter()
    try:
        with (
            httpx.Client(base_url=base_url, timeout=_EXPORT_TIMEOUT_SECONDS) as client,
            client.stream(
                "GET",
                "/api/v1/tasks/export",
                params={"format": fmt},
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            response.raise_for_status()
            # A CSV row per line (minus the header); an iCalendar task per VTODO (the
            # marker may straddle two chunks: count it in the joined tail).
            marker, tail = b"BEGIN:VTODO", b""
            for chunk in response.iter_bytes():
                received += len(chunk)
                if fmt == "ics":
                    joined = tail + chunk
                    newlines += joined.count(marker)
                    tail = joined[-(len(marker) - 1) :]
                    tail = b"" if marker in tail else tail
                else:
                    newlines += chunk.count(b"\n")
        elapsed = time.perf_counter() - started
    finally:
        peak = sampler.stop()
    time.sleep(_SETTLE_SECONDS)
    return ExportMemory(
        tasks=tasks,
        rows=newlines if fmt == "ics" else max(newlines - 1, 0),  # minus the header line
        megabytes=received / 1_000_000,
        seconds=elapsed,
        rss_before_mb=before,
        rss_after_mb=tree_rss_mb(server_pid),
        rss_peak_mb=max(peak, tree_rss_mb(server_pid)),
        format=fmt,
    )


@dataclass(frozen=True, slots=True)
class ImportMemory:
    tasks: int
    lists_created: int
    megabytes: float
    seconds: float
    rss_before_mb: float
    rss_after_mb: float
    rss_peak_mb: float

    @property
    def peak_growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb


def import_csv(tasks: int) -> bytes:
    """A file in the export's CSV format: tasks in 15 lists, every fourth a subtask of the
    one before, labels, due dates and moments, some completed."""
    lines = [
        "id,title,description,is_completed,list_name,parent_id,position,due_date,"
        "due_at,priority,labels"
    ]
    priorities = ("none", "low", "medium", "high")
    for n in range(tasks):
        parent = f"00000000-0000-0000-0000-{n - 1:012d}" if n % 4 == 3 else ""
        list_number = (n - 1 if parent else n) % 20
        due_date = f"2026-12-{n % 28 + 1:02d}" if n % 3 == 0 else ""
        due_at = f"2026-12-{n % 28 + 1:02d}T09:30:00Z" if n % 3 == 1 else ""
        lines.append(
            f"00000000-0000-0000-0000-{n:012d},task {n},a description of task {n},"
            f"{'true' if n % 5 == 0 else 'false'},list {list_number},{parent},"
            f"a{n:06d},{due_date},{due_at},{priorities[n % 4]},home;work"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def measure_import(base_url: str, token: str, server_pid: int, tasks: int) -> ImportMemory:
    body = import_csv(tasks)
    time.sleep(_SETTLE_SECONDS)
    before = tree_rss_mb(server_pid)
    sampler = _PeakSampler(server_pid)
    sampler.start()
    started = time.perf_counter()
    try:
        with httpx.Client(base_url=base_url, timeout=_EXPORT_TIMEOUT_SECONDS) as client:
            response = client.post(
                "/api/v1/tasks/import",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
            )
        elapsed = time.perf_counter() - started
        response.raise_for_status()
    finally:
        peak = sampler.stop()
    data = response.json()["data"]
    time.sleep(_SETTLE_SECONDS)
    return ImportMemory(
        tasks=data["created"],
        lists_created=data["lists_created"],
        megabytes=len(body) / 1_000_000,
        seconds=elapsed,
        rss_before_mb=before,
        rss_after_mb=tree_rss_mb(server_pid),
        rss_peak_mb=max(peak, tree_rss_mb(server_pid)),
    )
