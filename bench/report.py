"""The results: one table on stdout, everything in a JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.asyncpg_ceiling import CeilingResult
from bench.export_memory import ExportMemory
from bench.processes import ProcessMemory
from bench.profiling import ProfileSummary
from bench.scenarios import Scenario, Target
from bench.wrk import WrkResult

RSS_TARGET_MB = 150
EXPORT_GROWTH_TARGET_MB = 20
HEADERS: tuple[str, ...] = ("scenario", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx")
HEADERS += ("sock err", "srv CPU%", "other CPU%", "target", "ok")


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    scenario: Scenario
    result: WrkResult
    server_cpu_percent: float
    other_cpu_percent: float  # processes other than server, wrk, PostgreSQL: noise
    background: WrkResult | None = None
    profile: ProfileSummary | None = None

    def meets_target(self) -> bool | None:
        """None when the scenario has no target."""
        target, result = self.scenario.target, self.result
        if target == Target():
            return None
        if target.min_rps is not None and result.requests_per_second < target.min_rps:
            return False
        if target.max_p99_ms is not None and result.p99_ms > target.max_p99_ms:
            return False
        return not (target.zero_errors and result.non_2xx + result.socket_error_count)


@dataclass(slots=True)
class Report:
    meta: dict[str, Any]
    outcomes: list[ScenarioOutcome] = field(default_factory=list)
    ceiling: CeilingResult | None = None
    memory_after_load: list[ProcessMemory] = field(default_factory=list)
    exports: list[ExportMemory] = field(default_factory=list)

    @property
    def rss_after_load_mb(self) -> float:
        return sum(p.rss_mb for p in self.memory_after_load)


def _wrk_json(result: WrkResult) -> dict[str, Any]:
    return {
        **asdict(result),
        "requests_per_second": round(result.requests_per_second, 1),
        "ok_per_second": round(result.ok_per_second, 1),
        "non_2xx": result.non_2xx,
        "socket_error_count": result.socket_error_count,
    }


def to_json(report: Report) -> dict[str, Any]:
    return {
        "meta": report.meta,
        "scenarios": [
            {
                "key": o.scenario.key,
                "label": o.scenario.label,
                "method": o.scenario.method,
                "path": o.scenario.path,
                "target": o.scenario.target.describe(),
                "meets_target": o.meets_target(),
                "server_cpu_percent": round(o.server_cpu_percent, 1),
                "other_cpu_percent": round(o.other_cpu_percent, 1),
                **_wrk_json(o.result),
                "background": None if o.background is None else _wrk_json(o.background),
                "profile": None if o.profile is None else asdict(o.profile),
            }
            for o in report.outcomes
        ],
        "asyncpg_ceiling": None
        if report.ceiling is None
        else {
            **asdict(report.ceiling),
            "queries_per_second": round(report.ceiling.queries_per_second, 1),
        },
        "server_memory_after_load": {
            "total_rss_mb": round(report.rss_after_load_mb, 1),
            "target_mb": RSS_TARGET_MB,
            "processes": [asdict(p) for p in report.memory_after_load],
        },
        "export_memory": [
            {
                **asdict(e),
                "growth_mb": round(e.growth_mb, 1),
                "peak_growth_mb": round(e.peak_growth_mb, 1),
                "target_growth_mb": EXPORT_GROWTH_TARGET_MB,
            }
            for e in report.exports
        ],
    }


def write_json(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(report), indent=2, default=str) + "\n")


def _row(cells: list[str], widths: list[int]) -> str:
    first, *rest = cells
    aligned = [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
    return "  ".join([first.ljust(widths[0]), *aligned])


def table(report: Report) -> str:
    headers = list(HEADERS)
    rows = [
        [
            o.scenario.label,
            str(o.scenario.connections),
            f"{o.result.requests_per_second:,.0f}",
            f"{o.result.p50_ms:.1f}",
            f"{o.result.p99_ms:.1f}",
            str(o.result.non_2xx),
            str(o.result.socket_error_count),
            f"{o.server_cpu_percent:.0f}",
            f"{o.other_cpu_percent:.0f}",
            o.scenario.target.describe(),
            {True: "yes", False: "NO", None: ""}[o.meets_target()],
        ]
        for o in report.outcomes
    ]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [_row(headers, widths), "  ".join("-" * w for w in widths)]
    lines += [_row(r, widths) for r in rows]
    lines += _extras(report)
    return "\n".join(lines)


def _extras(report: Report) -> list[str]:
    lines = [""]
    for o in report.outcomes:
        if o.background is not None:
            b = o.background
            lines.append(
                f"  (background of {o.scenario.label!r}: {b.requests_per_second:,.0f} req/s, "
                f"{b.ok_per_second:,.0f} 2xx/s, "
                f"p99 {b.p99_ms:.0f} ms, non-2xx {b.non_2xx}, socket errors "
                f"{b.socket_error_count})"
            )
        bad = {s: n for s, n in o.result.statuses.items() if not s.startswith("2")}
        if bad or o.result.socket_error_count:
            lines.append(
                f"  {o.scenario.label}: {o.result.ok_per_second:,.0f} 2xx/s; statuses "
                f"{o.result.statuses}, socket errors {o.result.socket_errors}"
            )
    if report.ceiling is not None:
        c = report.ceiling
        lines.append(
            f"asyncpg ceiling (1 process, pool {c.pool_size}, {c.concurrency} tasks, "
            f"SELECT by pk): {c.queries_per_second:,.0f} queries/s, p50 {c.p50_ms:.1f} ms, "
            f"p99 {c.p99_ms:.1f} ms"
        )
    if report.memory_after_load:
        processes = ", ".join(f"pid {p.pid} {p.rss_mb:.0f} MB" for p in report.memory_after_load)
        peak = sum(p.peak_rss_mb for p in report.memory_after_load)
        lines.append(
            f"server RSS after the load: {report.rss_after_load_mb:.1f} MB "
            f"(target <= {RSS_TARGET_MB}; {processes}); peak (VmHWM) during the run {peak:.0f} MB"
        )
    lines.extend(
        f"export csv, {e.tasks:,} tasks ({e.rows:,} rows, {e.megabytes:.1f} MB in "
        f"{e.seconds:.1f} s): RSS {e.rss_before_mb:.1f} -> {e.rss_after_mb:.1f} MB, "
        f"growth {e.growth_mb:+.1f} MB, peak {e.peak_growth_mb:+.1f} MB "
        f"(target growth <= {EXPORT_GROWTH_TARGET_MB})"
        for e in report.exports
    )
    for o in report.outcomes:
        if o.profile is not None:
            lines.append(
                f"profile of {o.scenario.label}: {o.profile.samples} event-loop samples "
                f"(+{o.profile.other_threads_samples} in other threads), {o.profile.file}"
            )
            components = ", ".join(f"{name} {pct}%" for name, pct in o.profile.by_component)
            lines.append(f"  self time by component: {components}")
            lines.extend(f"  self {pct:5.1f}%  {frame}" for frame, pct in o.profile.top_self[:10])
    return lines
