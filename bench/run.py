"""The benchmark from start to end: database, server, seed, scenarios, ceiling, memory."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import asyncpg_ceiling, live_events, notify_trigger, pool_fairness, processes, sync_pull
from bench.api import Account, Api
from bench.console import say
from bench.database import benchmark_database
from bench.export_memory import measure_export, measure_import
from bench.profiling import ProfileSummary, Recording
from bench.report import Measured, NotifyCost, Report, ScenarioOutcome, table, write_json
from bench.scenarios import BY_KEY, MEASUREMENTS, TASK_IDS_FILE, Scenario
from bench.seed import Seeded, Sizes, seed
from bench.server import (
    Server,
    detect_server,
    free_port,
    new_jwt_secret,
    reference_command,
    running_server,
    server_environment,
    taskapp_command,
)
from bench.tools import find_py_spy, find_wrk
from bench.wrk import RequestShape, Wrk, WrkResult, WrkRun
from taskapp.adapters.postgres import migrations
from taskapp.adapters.tokens import JwtTokenService
from taskapp.config import load_settings

RESULTS = Path(__file__).with_name("results")
_NOISY_SHARE = 0.2  # other processes using more than 20% of a CPU: the figures are noisy


@dataclass(frozen=True, slots=True)
class Options:
    scenarios: tuple[Scenario, ...]
    workers: tuple[int, ...] = (1, 2)
    duration: int = 8
    warmup: int = 2
    rounds: int = 2  # per server and scenario, interleaved; the best counts
    reference: bool = True  # measure the no-layers reference beside taskapp
    pool_fairness_seconds: float = 3
    ceiling_seconds: int = 5
    threads: int = 1
    port: int | None = None
    profile: frozenset[str] = frozenset()
    export: bool = True
    sizes: Sizes = field(default_factory=Sizes)
    database_name: str = "taskapp_bench"
    output: Path = RESULTS / "latest.json"
    measurements: frozenset[str] = frozenset(MEASUREMENTS)  # see scenarios.MEASUREMENTS
    stream_steps: tuple[int, ...] = (200, 1000)  # open idle streams to measure RSS at
    event_rate: float = 100.0  # writes/s while measuring the event delay
    event_warmup: int = 3
    event_seconds: int = 15
    sync_rounds: int = 3  # full syncs per server


@dataclass(frozen=True, slots=True)
class Context:
    options: Options
    server: Server
    api: Api
    wrk: Wrk
    seeded: Seeded
    scratch: Path
    py_spy: str | None
    workers: int = 1
    reference: Server | None = None
    reference_wrk: Wrk | None = None
    database_url: str = ""
    environment: dict[str, str] = field(default_factory=dict)  # the servers'


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
    if completed.stderr.startswith("fatal:"):  # git outside a repository
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
        "workers": list(options.workers),
        "duration_seconds": options.duration,
        "warmup_seconds": options.warmup,
        "rounds": options.rounds,
        "servers": {},  # workers -> the HTTP server both apps ran on
        "wrk_threads": options.threads,
        "sizes": asdict(options.sizes),
        "note": "load generator, server and PostgreSQL share the machine",
    }


def _ours(context: Context) -> set[int]:
    """The bench and both servers: their CPU is not noise."""
    servers = [context.server, *([context.reference] if context.reference else [])]
    return {os.getpid(), *(p for server in servers for p in processes.descendants(server.pid))}


def _settle(server: Server, timeout: float = 10.0) -> None:
    """Wait until the server has finished what wrk left behind (wrk stops with up to
    `connections` requests in flight): its process tree uses under ~10 % of a CPU over
    0.2 s. The next run, on either server, then starts on a quiet machine and database,
    and writes of the two apps never overlap (their lock orders differ)."""
    deadline = time.monotonic() + timeout
    before = processes.tree_cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        after = processes.tree_cpu_seconds(server.pid)
        if after - before < 0.02:
            return
        before = after
    say(f"  note: {server.name} was still busy {timeout:.0f} s after wrk stopped")


def _measure_round(
    context: Context,
    server: Server,
    wrk: Wrk,
    shape: RequestShape,
    connections: int,
    seconds: int | None = None,
) -> tuple[WrkResult, float, float]:
    """One measured wrk run: the result, the server's CPU % and other processes' CPU %."""
    ours = _ours(context)
    machine_before, started = processes.cpu_snapshot(), time.monotonic()
    cpu_before = processes.tree_cpu_seconds(server.pid)
    result = wrk.run(shape, connections, seconds or context.options.duration)
    cpu = processes.tree_cpu_seconds(server.pid) - cpu_before
    elapsed = time.monotonic() - started
    other = processes.other_cpu_seconds(machine_before, processes.cpu_snapshot(), ours)
    if other / elapsed > _NOISY_SHARE:
        say(f"  note: other processes used {100 * other / elapsed:.0f}% of a CPU meanwhile")
    _settle(server)
    return result, 100 * cpu / elapsed, 100 * other / elapsed


def _best(runs: list[tuple[WrkResult, float, float]]) -> Measured:
    result, cpu, other = max(runs, key=lambda run: run[0].requests_per_second)
    return Measured(result, cpu, other, tuple(r.requests_per_second for r, _, _ in runs))


def _run_scenario(scenario: Scenario, context: Context) -> ScenarioOutcome:
    """Warm-up, then rounds taskapp, reference, taskapp, reference... with the same token,
    request shape and wrk settings; the best round of each server counts."""
    options, wrk, server = context.options, context.wrk, context.server
    reference, reference_wrk = context.reference, context.reference_wrk
    if not scenario.compared or reference is None or reference_wrk is None:
        reference = reference_wrk = None
    compare = reference is not None
    say(
        f"scenario {scenario.key}: {scenario.label}, {scenario.connections} connections, "
        f"{context.workers} worker(s){', against the reference' if compare else ''}"
    )
    shape = scenario.shape(context.api, context.seeded, context.scratch)
    # Rounds are for the comparison (interleaved, best of each); the extras run once.
    rounds = max(1, options.rounds) if compare and not scenario.single_round else 1
    background: WrkRun | None = None
    recording: Recording | None = None
    profile: ProfileSummary | None = None
    ours: list[tuple[WrkResult, float, float]] = []
    theirs: list[tuple[WrkResult, float, float]] = []
    try:
        if scenario.background is not None:
            extra = scenario.background
            background = wrk.start(
                extra.shape(context.api, context.seeded, context.scratch),
                extra.connections,
                (options.warmup + options.duration + 1) * rounds,
            )
        if options.warmup:
            wrk.run(shape, scenario.connections, options.warmup)
            if scenario.hashes_passwords:  # start measuring with no backlog of Argon2 work
                context.api.login(scenario.account(context.seeded))
            _settle(server)
        for index in range(rounds):
            if index == 0 and context.py_spy is not None and scenario.key in options.profile:
                output = options.output.with_name(f"profile-{scenario.key}.speedscope.json")
                recording = Recording(context.py_spy, server.pid, options.duration, output)
            ours.append(_measure_round(context, server, wrk, shape, scenario.connections))
            if index == 0 and recording is not None:
                profile = _finish_profile(recording)
            if reference is not None and reference_wrk is not None:
                if index == 0 and options.warmup:
                    reference_wrk.run(shape, scenario.connections, options.warmup)
                    _settle(reference)
                theirs.append(
                    _measure_round(context, reference, reference_wrk, shape, scenario.connections)
                )
        return ScenarioOutcome(
            scenario=scenario,
            taskapp=_best(ours),
            workers=context.workers,
            reference=_best(theirs) if theirs else None,
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


IMPORT_TASKS = 10_000  # the most one import may hold


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
    if sizes.export_large:
        say(f"export memory: iCalendar of {sizes.export_large:,} tasks")
        token = context.api.login(context.seeded.export_large)
        report.exports.append(
            measure_export(
                context.server.base_url, token, context.server.pid, sizes.export_large, "ics"
            )
        )
    say(f"import: CSV of {IMPORT_TASKS:,} tasks into an empty account")
    account = context.api.register(
        f"import-{uuid.uuid4().hex[:12]}@bench.example", "bench-import-pw"
    )
    token = context.api.login(account)
    report.imports.append(
        measure_import(context.server.base_url, token, context.server.pid, IMPORT_TASKS)
    )


EVENT_DELAY_STREAMS = 200  # 40 users x 5 streams
# The writes measured with a NOTIFY trigger (migration 0011's, put back: notices inside the
# writes, as before 0014) and as shipped (notices after commit). The first two are one
# user's writes, which queue on that user's counter row anyway; the crowd's 64 users commit
# side by side, where a lock every notifying commit takes would show.
NOTIFY_COST_SCENARIOS = ("create_task", "toggle_task", "toggle_task_crowd")
NOTIFY_ROUND_SECONDS = 5


def _stream_users(options: Options) -> int:
    """Users for the live-events measurements: 5 streams each, the most one may open."""
    streams = 0
    if "event_delay" in options.measurements:
        streams = EVENT_DELAY_STREAMS
    if "stream_memory" in options.measurements and options.stream_steps:
        streams = max(streams, *options.stream_steps)
    return -(-streams // live_events.STREAMS_PER_USER)


def _needed_sizes(options: Options) -> Sizes:
    """Skip seeding what the selected scenarios do not read."""
    keys = {scenario.key for scenario in options.scenarios}
    sizes = options.sizes
    syncs = "sync_page" in keys or "sync_full" in options.measurements
    return Sizes(
        tasks=sizes.tasks,
        stats_tasks=sizes.stats_tasks if "stats" in keys else 0,
        history_rows=sizes.history_rows if "history" in keys else 0,
        export_small=sizes.export_small if options.export else 0,
        export_large=sizes.export_large if options.export else 0,
        crowd_users=sizes.crowd_users
        if any(s.crowd for s in options.scenarios) or "notify_cost" in options.measurements
        else 0,
        crowd_tasks=sizes.crowd_tasks,
        sync_tasks=sizes.sync_tasks if syncs else 0,
        stream_users=_stream_users(options),
        stream_tasks=sizes.stream_tasks,
    )


def _phase(
    options: Options,
    workers: int,
    first: bool,
    shared: _Shared,
    report: Report,
) -> Seeded:
    """Both servers at `workers` worker(s): taskapp and, beside it, the reference on the same
    HTTP server; every scenario of this phase; at the first worker count also the extras
    (taskapp-only scenarios), the memory after the load and the exports."""
    scenarios = [s for s in options.scenarios if first or s.compared]
    with ExitStack() as stack:
        port = (options.port if first else None) or free_port()
        server = stack.enter_context(
            running_server(
                f"taskapp-{workers}w",
                taskapp_command(port, workers),
                shared.environment,
                port,
                shared.scratch,
            )
        )
        api = Api(server.base_url)
        stack.callback(api.close)
        seeded = shared.seeded
        if seeded is None:
            seeded = seed(api, shared.url, _needed_sizes(options))
            ids = "".join(f"{task_id}\n" for task_id in seeded.task_ids)
            (shared.scratch / TASK_IDS_FILE).write_text(ids)
        kind = detect_server(server.pid)
        report.meta["servers"][str(workers)] = kind
        reference = None
        compares = any(s.compared for s in scenarios) or (first and _syncs_fully(options))
        if options.reference and compares:
            reference_port = free_port()
            reference = stack.enter_context(
                running_server(
                    f"reference-{workers}w",
                    reference_command(reference_port, workers, kind),
                    shared.environment,
                    reference_port,
                    shared.scratch,
                )
            )
        context = Context(
            options=options,
            server=server,
            api=api,
            wrk=Wrk(shared.wrk, server.base_url + "/", threads=options.threads),
            seeded=seeded,
            scratch=shared.scratch,
            py_spy=shared.py_spy if first else None,
            workers=workers,
            reference=reference,
            reference_wrk=None
            if reference is None
            else Wrk(shared.wrk, reference.base_url + "/", threads=options.threads),
            database_url=shared.url,
            environment=shared.environment,
        )
        report.outcomes.extend(_run_scenario(s, context) for s in scenarios)
        if first:
            api.login(seeded.tasks_user)  # let queued Argon2 work (and 64 MiB buffers) drain
            report.memory_after_load = processes.memory(server.pid)
            if options.export:
                _measure_exports(context, report)
            _measure_sync_and_events(context, report)
    return seeded


def _syncs_fully(options: Options) -> bool:
    return "sync_full" in options.measurements


def _measure_sync_and_events(context: Context, report: Report) -> None:
    """Issue 18's measurements, in an order that keeps them apart: idle streams' memory
    and the event delay (on the same streams), the full sync, then the NOTIFY trigger's
    cost (it disables the trigger for a while: nothing else may run meanwhile)."""
    options, seeded, server = context.options, context.seeded, context.server
    wanted = options.measurements
    if {"stream_memory", "event_delay"} & wanted and seeded.stream_users:
        report.live_events = _measure_live(context)
    if "sync_full" in wanted and seeded.sync_user is not None:
        servers = [("taskapp", server.base_url)]
        if context.reference is not None:
            servers.append(("reference", context.reference.base_url))
        say(
            f"full sync: {options.sizes.sync_tasks:,} tasks page by page, "
            f"{options.sync_rounds} round(s) per server"
        )
        token = context.api.login(seeded.sync_account())
        report.full_syncs = sync_pull.measure(
            servers, token, options.sync_rounds, options.sizes.sync_tasks
        )
    if "notify_cost" in wanted:
        report.notify_costs = [
            _measure_notify_cost(context, BY_KEY[key]) for key in NOTIFY_COST_SCENARIOS
        ]


def _measure_live(context: Context) -> live_events.LiveEvents:
    options, seeded = context.options, context.seeded
    users = seeded.stream_users
    tokens = _issue_tokens(context, users)
    stream_users = [
        live_events.StreamUser(token, seeded.stream_tasks[account.user_id])
        for account, token in zip(users, tokens, strict=True)
    ]
    per_user = live_events.STREAMS_PER_USER
    delay_users = (
        stream_users[: EVENT_DELAY_STREAMS // per_user]
        if "event_delay" in options.measurements
        else []
    )
    steps: list[list[live_events.StreamUser]] = []
    if "stream_memory" in options.measurements:
        counts = sorted({*options.stream_steps, *([EVENT_DELAY_STREAMS] if delay_users else [])})
        done = 0
        for count in counts:
            steps.append(stream_users[done // per_user : count // per_user])
            done = count
    say(
        "live events: RSS at "
        + ", ".join(str(c) for c in [0, *options.stream_steps])
        + " idle streams"
        if steps
        else "live events"
    )
    return live_events.measure(
        context.server.base_url,
        context.server.pid,
        delay_users,
        steps,
        rate=options.event_rate,
        warmup=options.event_warmup,
        duration=options.event_seconds,
        ours=lambda: _ours(context),
    )


def _issue_tokens(context: Context, accounts: list[Account]) -> list[str]:
    """Access tokens from taskapp's own token service with the run's secret, exactly as a
    login issues them (they are stateless JWTs): 200 Argon2 logins would add a minute."""
    settings = load_settings(context.environment, env_file=None)
    service = JwtTokenService(
        settings.jwt_secret,
        settings.jwt_issuer,
        settings.jwt_audience,
        timedelta(seconds=settings.access_token_ttl_seconds),
    )
    now = datetime.now(UTC)
    return [service.issue_access_token(account.user_id, now).token for account in accounts]


def _measure_notify_cost(context: Context, scenario: Scenario) -> NotifyCost:
    """The scenario on taskapp with 0011's per-change NOTIFY trigger put back ("on": the
    notices inside the writes, as before migration 0014) and as shipped ("off": notices
    after commit only): short rounds in ABBA order (on, off, off, on, ...), twice as many
    as --rounds, so a drifting machine favours neither; the cost compares the medians."""
    options, server, wrk = context.options, context.server, context.wrk
    rounds = 2 * max(1, options.rounds)
    seconds = min(options.duration, NOTIFY_ROUND_SECONDS)
    say(
        f"NOTIFY cost: {scenario.label}, NOTIFY in the writes (trigger) vs after commit, "
        f"{rounds} x {seconds} s each"
    )
    shape = scenario.shape(context.api, context.seeded, context.scratch)
    runs: dict[bool, list[tuple[WrkResult, float, float]]] = {True: [], False: []}
    try:
        if options.warmup:
            wrk.run(shape, scenario.connections, options.warmup)
            _settle(server)
        for index in range(rounds):
            for enabled in (True, False) if index % 2 == 0 else (False, True):
                notify_trigger.set_enabled(context.database_url, enabled)
                runs[enabled].append(
                    _measure_round(context, server, wrk, shape, scenario.connections, seconds)
                )
    finally:
        notify_trigger.set_enabled(context.database_url, False)
    return NotifyCost(scenario, _best(runs[True]), _best(runs[False]))


@dataclass(slots=True)
class _Shared:
    url: str
    scratch: Path
    environment: dict[str, str]
    wrk: str
    py_spy: str | None
    seeded: Seeded | None = None


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
        # One secret for every server of the run: the reference verifies taskapp's tokens.
        environment = server_environment(url, scratch / "data", new_jwt_secret())
        shared = _Shared(url, scratch, environment, wrk_executable, py_spy)
        for index, workers in enumerate(options.workers):
            shared.seeded = _phase(options, workers, index == 0, shared, report)
        seeded = shared.seeded
        if options.ceiling_seconds and seeded is not None:
            say(f"asyncpg ceiling: {options.ceiling_seconds} s of SELECT by primary key")
            report.ceiling = asyncpg_ceiling.measure(
                url, seeded.tasks_user.user_id, seeded.task_ids, options.ceiling_seconds
            )
        if options.pool_fairness_seconds:
            say(f"pool fairness: {options.pool_fairness_seconds:g} s plain, then as long gated")
            report.pool_fairness = pool_fairness.measure(url, options.pool_fairness_seconds)
        report.meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        write_json(report, options.output)
        print(table(report), flush=True)
        say(f"results written to {options.output}")
    return report
