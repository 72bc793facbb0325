"""The results: one table on stdout, everything in a JSON file."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.asyncpg_ceiling import CeilingResult
from bench.export_memory import ExportMemory, ImportMemory
from bench.live_events import LiveEvents
from bench.pool_fairness import FairnessResult, describe
from bench.processes import ProcessMemory
from bench.profiling import ProfileSummary
from bench.scenarios import Scenario, Target
from bench.sync_pull import FullSync
from bench.wrk import WrkResult

RSS_TARGET_MB = 150
EXPORT_GROWTH_TARGET_MB = 20
EVENT_DELAY_P99_TARGET_MS = 200  # issue 18: answer -> event on every stream, p99
# The bar, against the no-layers reference measured in the same run.
MIN_RATIO = 0.85
MAX_P99_RATIO = 2.0
HEADERS: tuple[str, ...] = ("scenario", "conns", "taskapp/s", "ref/s", "ratio")
HEADERS += ("p99 ms", "ref p99", "p99 ratio", "errors", "ref err", "CPU%", "ref CPU%")
HEADERS += ("other%", "ok")


@dataclass(frozen=True, slots=True)
class Measured:
    """One server's figures for a scenario: the best of its rounds (highest req/s)."""

    result: WrkResult
    server_cpu_percent: float
    other_cpu_percent: float  # processes other than servers, wrk, PostgreSQL: noise
    rounds: tuple[float, ...] = ()  # req/s of every round, in order

    @property
    def errors(self) -> int:
        return self.result.non_2xx + self.result.socket_error_count


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    scenario: Scenario
    taskapp: Measured
    workers: int = 1
    reference: Measured | None = None
    background: WrkResult | None = None
    profile: ProfileSummary | None = None

    @property
    def result(self) -> WrkResult:
        return self.taskapp.result

    @property
    def ratio(self) -> float | None:
        """taskapp req/s ÷ reference req/s."""
        if self.reference is None or not self.reference.result.requests_per_second:
            return None
        return self.result.requests_per_second / self.reference.result.requests_per_second

    @property
    def p99_ratio(self) -> float | None:
        """taskapp p99 ÷ reference p99 (lower is better)."""
        if self.reference is None or not self.reference.result.p99_ms:
            return None
        return self.result.p99_ms / self.reference.result.p99_ms

    def meets_comparison(self) -> bool | None:
        """The issue's bar: >= 0.85 x the reference's req/s, p99 <= 2 x its p99, and no
        errors at all at 256 connections. None without a reference."""
        ratio, p99_ratio = self.ratio, self.p99_ratio
        if ratio is None or p99_ratio is None:
            return None
        if self.scenario.target.zero_errors:
            return self.taskapp.errors == 0
        return ratio >= MIN_RATIO and p99_ratio <= MAX_P99_RATIO and self.taskapp.errors == 0

    def meets_target(self) -> bool | None:
        """The earlier absolute targets (req/s, p99 ms); None when the scenario has none."""
        target, result = self.scenario.target, self.result
        if target == Target():
            return None
        if target.min_rps is not None and result.requests_per_second < target.min_rps:
            return False
        if target.max_p99_ms is not None and result.p99_ms > target.max_p99_ms:
            return False
        return not (target.zero_errors and result.non_2xx + result.socket_error_count)


@dataclass(frozen=True, slots=True)
class NotifyCost:
    """A write scenario with a NOTIFY trigger in the writes (on: as before migration 0014)
    and without (off: as shipped, the notices sent after commit)."""

    scenario: Scenario
    on: Measured
    off: Measured

    @property
    def cost_percent(self) -> float:
        """How much lower the req/s are with the trigger (what sending the notices after
        commit saves), medians of the rounds:
        100 x (1 - on / off)."""
        on, off = statistics.median(self.on.rounds), statistics.median(self.off.rounds)
        return 100 * (1 - on / off) if off else 0.0


@dataclass(slots=True)
class Report:
    meta: dict[str, Any]
    outcomes: list[ScenarioOutcome] = field(default_factory=list)
    ceiling: CeilingResult | None = None
    memory_after_load: list[ProcessMemory] = field(default_factory=list)
    exports: list[ExportMemory] = field(default_factory=list)
    imports: list[ImportMemory] = field(default_factory=list)
    pool_fairness: FairnessResult | None = None
    live_events: LiveEvents | None = None
    full_syncs: list[FullSync] = field(default_factory=list)
    notify_costs: list[NotifyCost] = field(default_factory=list)

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


def _measured_json(measured: Measured) -> dict[str, Any]:
    return {
        **_wrk_json(measured.result),
        "errors": measured.errors,
        "server_cpu_percent": round(measured.server_cpu_percent, 1),
        "other_cpu_percent": round(measured.other_cpu_percent, 1),
        "rounds_requests_per_second": [round(r, 1) for r in measured.rounds],
    }


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _comparison_json(o: ScenarioOutcome) -> dict[str, Any]:
    reference = o.reference
    return {
        "workers": o.workers,
        "key": o.scenario.key,
        "label": o.scenario.label,
        "connections": o.scenario.connections,
        "taskapp_rps": round(o.result.requests_per_second, 1),
        "reference_rps": None
        if reference is None
        else round(reference.result.requests_per_second, 1),
        "ratio": _rounded(o.ratio),
        "taskapp_p99_ms": round(o.result.p99_ms, 1),
        "reference_p99_ms": None if reference is None else round(reference.result.p99_ms, 1),
        "p99_ratio": _rounded(o.p99_ratio),
        "taskapp_errors": o.taskapp.errors,
        "reference_errors": None if reference is None else reference.errors,
        "meets": o.meets_comparison(),
    }


def to_json(report: Report) -> dict[str, Any]:
    return {
        "meta": report.meta,
        "bar": {"min_ratio": MIN_RATIO, "max_p99_ratio": MAX_P99_RATIO},
        "comparison": [_comparison_json(o) for o in report.outcomes],
        "scenarios": [
            {
                "key": o.scenario.key,
                "label": o.scenario.label,
                "workers": o.workers,
                "method": o.scenario.method,
                "path": o.scenario.path,
                "target": o.scenario.target.describe(),
                "meets_target": o.meets_target(),
                "ratio": _rounded(o.ratio),
                "p99_ratio": _rounded(o.p99_ratio),
                "meets_comparison": o.meets_comparison(),
                # taskapp's figures at the top level, as before the reference existed
                **_measured_json(o.taskapp),
                "reference": None if o.reference is None else _measured_json(o.reference),
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
        "pool_fairness": None if report.pool_fairness is None else asdict(report.pool_fairness),
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
        "import": [
            {**asdict(i), "peak_growth_mb": round(i.peak_growth_mb, 1)} for i in report.imports
        ],
        **_sync_and_events_json(report),
    }


def _sync_and_events_json(report: Report) -> dict[str, Any]:
    live = report.live_events
    memory = None if live is None or live.memory is None else live.memory
    return {
        "stream_memory": None
        if memory is None
        else {
            **asdict(memory),
            "kib_per_stream": [(n, round(k, 1)) for n, k in memory.kib_per_stream],
        },
        "event_delay": None
        if live is None or live.delay is None
        else {
            **asdict(live.delay),
            "missing_events": live.delay.missing_events,
            "target_p99_ms": EVENT_DELAY_P99_TARGET_MS,
        },
        "full_sync": [f.as_json() for f in report.full_syncs],
        "notify_cost": [
            {
                "key": n.scenario.key,
                "label": n.scenario.label,
                "cost_percent": round(n.cost_percent, 1),
                "trigger_on": _measured_json(n.on),
                "trigger_off": _measured_json(n.off),
            }
            for n in report.notify_costs
        ],
    }


def write_json(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(report), indent=2, default=str) + "\n")


def _row(cells: list[str], widths: list[int]) -> str:
    first, *rest = cells
    aligned = [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
    return "  ".join([first.ljust(widths[0]), *aligned])


def _cells(o: ScenarioOutcome) -> list[str]:
    ref, none = o.reference, "-"
    return [
        o.scenario.label,
        str(o.scenario.connections),
        f"{o.result.requests_per_second:,.0f}",
        none if ref is None else f"{ref.result.requests_per_second:,.0f}",
        none if o.ratio is None else f"{o.ratio:.2f}",
        f"{o.result.p99_ms:.1f}",
        none if ref is None else f"{ref.result.p99_ms:.1f}",
        none if o.p99_ratio is None else f"{o.p99_ratio:.2f}",
        str(o.taskapp.errors),
        none if ref is None else str(ref.errors),
        f"{o.taskapp.server_cpu_percent:.0f}",
        none if ref is None else f"{ref.server_cpu_percent:.0f}",
        f"{o.taskapp.other_cpu_percent:.0f}",
        {True: "yes", False: "NO", None: ""}[o.meets_comparison()],
    ]


def table(report: Report) -> str:
    headers = list(HEADERS)
    lines: list[str] = []
    for workers in dict.fromkeys(o.workers for o in report.outcomes):
        rows = [_cells(o) for o in report.outcomes if o.workers == workers]
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        server = report.meta.get("servers", {}).get(str(workers), "?")
        lines += [
            f"{workers} worker(s), {server}; ratio = taskapp ÷ reference req/s "
            f"(bar >= {MIN_RATIO}), p99 ratio = taskapp ÷ reference p99 (bar <= {MAX_P99_RATIO})",
            _row(headers, widths),
            "  ".join("-" * w for w in widths),
        ]
        lines += [_row(r, widths) for r in rows]
        lines.append("")
    lines += _extras(report)
    return "\n".join(lines)


def _extras(report: Report) -> list[str]:
    lines = []
    for o in report.outcomes:
        if o.background is not None:
            b = o.background
            lines.append(
                f"  (background of {o.scenario.label!r}: {b.requests_per_second:,.0f} req/s, "
                f"{b.ok_per_second:,.0f} 2xx/s, "
                f"p99 {b.p99_ms:.0f} ms, non-2xx {b.non_2xx}, socket errors "
                f"{b.socket_error_count})"
            )
        for name, measured in (("taskapp", o.taskapp), ("reference", o.reference)):
            if measured is None or not measured.errors:
                continue
            r = measured.result
            lines.append(
                f"  {o.scenario.label} ({o.workers} worker(s), {name}): {r.ok_per_second:,.0f} "
                f"2xx/s; statuses {r.statuses}, socket errors {r.socket_errors}"
            )
    if report.ceiling is not None:
        c = report.ceiling
        lines.append(
            f"asyncpg ceiling (1 process, pool {c.pool_size}, {c.concurrency} tasks, "
            f"SELECT by pk): {c.queries_per_second:,.0f} queries/s, p50 {c.p50_ms:.1f} ms, "
            f"p99 {c.p99_ms:.1f} ms"
        )
    if report.pool_fairness is not None:
        lines.extend(describe(report.pool_fairness))
    if report.memory_after_load:
        processes = ", ".join(f"pid {p.pid} {p.rss_mb:.0f} MB" for p in report.memory_after_load)
        peak = sum(p.peak_rss_mb for p in report.memory_after_load)
        lines.append(
            f"server RSS after the load: {report.rss_after_load_mb:.1f} MB "
            f"(target <= {RSS_TARGET_MB}; {processes}); peak (VmHWM) during the run {peak:.0f} MB"
        )
    lines.extend(
        f"export {e.format}, {e.tasks:,} tasks ({e.rows:,} rows, {e.megabytes:.1f} MB in "
        f"{e.seconds:.1f} s): RSS {e.rss_before_mb:.1f} -> {e.rss_after_mb:.1f} MB, "
        f"growth {e.growth_mb:+.1f} MB, peak {e.peak_growth_mb:+.1f} MB "
        f"(target growth <= {EXPORT_GROWTH_TARGET_MB})"
        for e in report.exports
    )
    lines.extend(
        f"import csv, {i.tasks:,} tasks into {i.lists_created} new lists ({i.megabytes:.1f} MB): "
        f"{i.seconds:.2f} s, RSS {i.rss_before_mb:.1f} -> {i.rss_after_mb:.1f} MB, "
        f"peak {i.peak_growth_mb:+.1f} MB"
        for i in report.imports
    )
    lines.extend(_sync_and_events_lines(report))
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


def _sync_and_events_lines(report: Report) -> list[str]:
    lines = []
    live = report.live_events
    if live is not None and live.memory is not None:
        m = live.memory
        points = ", ".join(f"{n} streams {mb:.1f} MB" for n, mb in m.points)
        per = ", ".join(f"{k:.1f} KiB/stream at {n}" for n, k in m.kib_per_stream)
        lines.append(
            f"idle event streams: server RSS {points}; {per}; "
            f"{m.rss_after_closing_mb:.1f} MB once back to {m.kept_streams}"
        )
    if live is not None and live.delay is not None:
        d = live.delay
        meets = "yes" if d.delay_ms.get("p99", 1e9) < EVENT_DELAY_P99_TARGET_MS else "NO"
        lines.append(
            f"event delay ({d.streams} streams, {d.users} users, {d.achieved_rate:g} writes/s "
            f"for {d.seconds:g} s): answer -> event p50 {d.delay_ms.get('p50', 0):.1f} ms, "
            f"p99 {d.delay_ms.get('p99', 0):.1f} ms, max {d.delay_ms.get('max', 0):.1f} ms "
            f"(target p99 < {EVENT_DELAY_P99_TARGET_MS}: {meets}); "
            f"{d.received_events:,}/{d.expected_events:,} events"
        )
        lines.append(
            f"  sent -> event p50 {d.from_send_ms.get('p50', 0):.1f} / p99 "
            f"{d.from_send_ms.get('p99', 0):.1f} ms; write p50 {d.write_ms.get('p50', 0):.1f} "
            f"/ p99 {d.write_ms.get('p99', 0):.1f} ms, {d.write_errors} errors; "
            f"{100 * d.before_answer_share:.0f}% of events before the answer; server CPU "
            f"{d.server_cpu_percent:.0f}%, client CPU {d.client_cpu_percent:.0f}%, client "
            f"loop lag p99 {d.loop_lag_ms.get('p99', 0):.1f} ms; other CPU "
            f"{d.other_cpu_percent:.0f}%"
        )
    for f in report.full_syncs:
        last = f.pulls[-1]
        lines.append(
            f"full sync ({f.server}): {f.objects:,} objects in {last.pages} pages "
            f"({last.megabytes:.1f} MB), median {f.median_seconds:.2f} s "
            f"({f.objects_per_second:,.0f} objects/s; runs "
            + ", ".join(f"{p.seconds:.2f}" for p in f.pulls)
            + " s)"
        )
    for n in report.notify_costs:
        on, off = n.on, n.off
        lines.append(
            f"NOTIFY in the writes, {n.scenario.label}: on {statistics.median(on.rounds):,.0f} "
            f"req/s (best round's p99 {on.result.p99_ms:.1f} ms), off "
            f"{statistics.median(off.rounds):,.0f} req/s (p99 {off.result.p99_ms:.1f} ms, "
            "as shipped), "
            f"medians: cost {n.cost_percent:.1f}% (rounds on "
            + "/".join(f"{r:,.0f}" for r in on.rounds)
            + ", off "
            + "/".join(f"{r:,.0f}" for r in off.rounds)
            + ")"
        )
    return lines
