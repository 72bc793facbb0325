"""Server memory around a CSV export: does a big export grow the process?"""

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


def measure_export(base_url: str, token: str, server_pid: int, tasks: int) -> ExportMemory:
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
                params={"format": "csv"},
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            response.raise_for_status()
            for chunk in response.iter_bytes():
                received += len(chunk)
                newlines += chunk.count(b"\n")
        elapsed = time.perf_counter() - started
    finally:
        peak = sampler.stop()
    time.sleep(_SETTLE_SECONDS)
    return ExportMemory(
        tasks=tasks,
        rows=max(newlines - 1, 0),  # minus the header line
        megabytes=received / 1_000_000,
        seconds=elapsed,
        rss_before_mb=before,
        rss_after_mb=tree_rss_mb(server_pid),
        rss_peak_mb=max(peak, tree_rss_mb(server_pid)),
    )
