"""The benchmark from start to end: database, server, seed, scenarios, ceiling, memory."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import asyncpg_ceiling, processes
from bench.api import Api
from bench.console import say
from bench.database import benchmark_database
from bench.export_memory import measure_export
from bench.profiling import ProfileSummary, Recording
from bench.report import Report, ScenarioOutcome, table, write_json
from bench.scenarios import TASK_IDS_FILE, Scenario
from bench.seed import Seeded, Sizes, seed
from bench.server import Server, free_port, running_server
from bench.tools import find_py_spy, find_wrk
from bench.wrk import Wrk, WrkRun
from taskapp.adapters.postgres import migrations

RESULTS = Path(__file__).with_name("results")
_NOISY_SHARE = 0.2  # other processes using more than 20% of a CPU: the figures are noisy


@dataclass(frozen=True, slots=True)
class Options:
    scenarios: tuple[Scenario, ...]
    workers: int = 1
    duration: int = 15
    warmup: int = 3
    ceiling_seconds: int = 5
    threads: int = 1
    port: int | None = None
    profile: frozenset[str] = frozenset()
    export: bool = True
    sizes: Sizes = field(default_factory=Sizes)
    database_name: str = "taskapp_bench"
    output: Path = RESULTS / "latest.json"


@dataclass(frozen=True, slots=True)
class Context:
    options: Options
    server: Server
    api: Api
    wrk: Wrk
    seeded: Seeded
    scratch: Path
    py_spy: str | None


def _command_output(command: list[str]) -> str:
    executable = shutil.which(command[0])
    if executable is None:
        return "?"
    try:
        completed = subprocess.run(  # noqa: S603 - fixed commands (git, wrk) for the record
            [executable, *command[1:]], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def _meta(options: Options, database: str) -> dict[str, Any]:
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _command_output(["git", "rev-parse", "--short", "HEAD"]),
        # The server runs from the working tree: uncommitted changes are measured too.
        "uncommitted_changes": _command_output(["git", "status", "--porcelain", "src"]) != "?",
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "wrk": _command_output(["wrk", "--version"]),
        "database": database,
        "workers": options.workers,
        "duration_seconds": options.duration,
        "warmup_seconds": options.warmup,
        "wrk_threads": options.threads,
        "sizes": asdict(options.sizes),
        "note": "load generator, server and PostgreSQL share the machine",
    }


def _run_scenario(scenario: Scenario, context: Context) -> ScenarioOutcome:
    options, wrk, server = context.options, context.wrk, context.server
    say(f"scenario {scenario.key}: {scenario.label}, {scenario.connections} connections")
    shape = scenario.shape(context.api, context.seeded, context.scratch)
    background: WrkRun | None = None
    recording: Recording | None = None
    try:
        if scenario.background is not None:
            extra = scenario.background
            background = wrk.start(
                extra.shape(context.api, context.seeded, context.scratch),
                extra.connections,
                options.warmup + options.duration + 1,
            )
        if options.warmup:
            wrk.run(shape, scenario.connections, options.warmup)
            if scenario.hashes_passwords:  # start measuring with no backlog of Argon2 work
                context.api.login(scenario.account(context.seeded))
        if context.py_spy is not None and scenario.key in options.profile:
            output = options.output.with_name(f"profile-{scenario.key}.speedscope.json")
            recording = Recording(context.py_spy, server.pid, options.duration, output)
        ours = {os.getpid(), *processes.descendants(server.pid)}
        machine_before, started = processes.cpu_snapshot(), time.monotonic()
        cpu_before = processes.tree_cpu_seconds(server.pid)
        result = wrk.run(shape, scenario.connections, options.duration)
        cpu = processes.tree_cpu_seconds(server.pid) - cpu_before
        elapsed = time.monotonic() - started
        other = processes.other_cpu_seconds(machine_before, processes.cpu_snapshot(), ours)
        if other / elapsed > _NOISY_SHARE:
            say(f"  note: other processes used {100 * other / elapsed:.0f}% of a CPU meanwhile")
        profile = _finish_profile(recording) if recording is not None else None
        return ScenarioOutcome(
            scenario=scenario,
            result=result,
            server_cpu_percent=100 * cpu / elapsed,
            other_cpu_percent=100 * other / elapsed,
            background=background.result() if background is not None else None,
            profile=profile,
        )
    finally:
        if background is not None:
            background.kill()
        if recording is not None:
            recording.kill()


def _finish_profile(recording: Recording) -> ProfileSummary | None:
    """A failed profile is reported, not fatal: the measurements still count."""
    try:
        return recording.finish()
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        say(f"  profiling failed: {error}")
        return None


def _measure_exports(context: Context, report: Report) -> None:
    sizes = context.options.sizes
    for account, tasks in (
        (context.seeded.export_small, sizes.export_small),
        (context.seeded.export_large, sizes.export_large),
    ):
        say(f"export memory: CSV of {tasks:,} tasks")
        token = context.api.login(account)
        report.exports.append(
            measure_export(context.server.base_url, token, context.server.pid, tasks)
        )


def _needed_sizes(options: Options) -> Sizes:
    """Skip seeding what the selected scenarios do not read."""
    keys = {scenario.key for scenario in options.scenarios}
    sizes = options.sizes
    return Sizes(
        tasks=sizes.tasks,
        stats_tasks=sizes.stats_tasks if "stats" in keys else 0,
        history_rows=sizes.history_rows if "history" in keys else 0,
        export_small=sizes.export_small if options.export else 0,
        export_large=sizes.export_large if options.export else 0,
        crowd_users=sizes.crowd_users if any(s.crowd for s in options.scenarios) else 0,
        crowd_tasks=sizes.crowd_tasks,
    )


def run(options: Options) -> Report:
    wrk_executable = find_wrk()
    py_spy = find_py_spy() if options.profile else None
    options.output.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="taskapp-bench-")))
        url, database = stack.enter_context(
            benchmark_database(os.environ.get("DATABASE_URL"), options.database_name)
        )
        report = Report(meta=_meta(options, database))
        say("migrating")
        migrations.upgrade(url)
        server = stack.enter_context(
            running_server(url, options.workers, options.port or free_port(), scratch)
        )
        api = Api(server.base_url)
        stack.callback(api.close)
        seeded = seed(api, url, _needed_sizes(options))
        ids = "".join(f"{task_id}\n" for task_id in seeded.task_ids)
        (scratch / TASK_IDS_FILE).write_text(ids)
        context = Context(
            options=options,
            server=server,
            api=api,
            wrk=Wrk(wrk_executable, server.base_url + "/", threads=options.threads),
            seeded=seeded,
            scratch=scratch,
            py_spy=py_spy,
        )
        report.outcomes.extend(_run_scenario(s, context) for s in options.scenarios)
        api.login(seeded.tasks_user)  # let queued Argon2 work (and its 64 MiB buffers) drain
        report.memory_after_load = processes.memory(server.pid)
        if options.ceiling_seconds:
            say(f"asyncpg ceiling: {options.ceiling_seconds} s of SELECT by primary key")
            report.ceiling = asyncpg_ceiling.measure(
                url, seeded.tasks_user.user_id, seeded.task_ids, options.ceiling_seconds
            )
        if options.export:
            _measure_exports(context, report)
        report.meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        write_json(report, options.output)
        print(table(report), flush=True)
        say(f"results written to {options.output}")
    return report
