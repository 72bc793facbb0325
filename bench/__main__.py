"""`python -m bench` (`make bench`): measure taskapp the way users feel it.

Each compared scenario runs against taskapp and against the no-layers reference
(bench/reference_app.py: same routes, JSON, database and rows, one SQL statement per
request) in the same run, rounds interleaved, at 1 and at 2 workers; the table shows
taskapp ÷ reference. Uses DATABASE_URL's server when set (a fresh `taskapp_bench` database,
dropped at the end), else an embedded PostgreSQL in a temporary directory. Needs wrk.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.console import say
from bench.database import DatabaseInUse
from bench.run import RESULTS, Options, run
from bench.scenarios import BY_KEY, MEASUREMENTS, SCENARIOS
from bench.seed import HISTORY_ROWS, Sizes
from bench.signals import interrupt_on_sigterm
from bench.tools import MissingTool


def _keys(text: str) -> list[str]:
    keys = [key.strip() for key in text.split(",") if key.strip()]
    unknown = [key for key in keys if key not in BY_KEY]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(BY_KEY)}"
        )
    return keys


def _selection(text: str) -> list[str]:
    """Scenarios and measurements (MEASUREMENTS' keys)."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    known = [*BY_KEY, *MEASUREMENTS]
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(known)}"
        )
    return keys


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = ()
    if any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError(f"expected counts like 200,1000, not {text!r}")
    return counts


def _worker_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError(f"expected worker counts like 1 or 1,2, not {text!r}")
    return counts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add = parser.add_argument
    add(
        "--workers",
        type=_worker_counts,
        help="worker counts, one phase each, e.g. 1 or 1,2 (default 1,2; --quick: 1)",
    )
    add("--duration", type=int, default=8, help="measured seconds per round (default 8)")
    add("--warmup", type=int, default=2, help="warm-up seconds per server (default 2)")
    add("--rounds", type=int, default=2, help="rounds per server, interleaved (default 2)")
    add("--no-reference", action="store_true", help="measure taskapp only")
    add(
        "--quick",
        action="store_true",
        help="smoke run: 1 s warm-up, 3 s rounds, 1 round, 1 worker",
    )
    add("--threads", type=int, default=1, help="wrk threads per wrk process (default 1)")
    add("--port", type=int, help="server port (default: a free one)")
    add(
        "--only",
        type=_selection,
        help=f"comma-separated scenarios and measurements: {', '.join([*BY_KEY, *MEASUREMENTS])}",
    )
    add("--profile", type=_keys, default=[], help="py-spy these scenarios (needs py-spy)")
    add("--ceiling-seconds", type=int, help="asyncpg ceiling duration (default 5; 0 skips)")
    add("--no-export", action="store_true", help="skip the export-memory measurement")
    add("--pool-fairness-seconds", type=float, help="per mode (default 3, --quick 2; 0 skips)")
    add("--history-rows", type=int, default=HISTORY_ROWS, help="default 1,000,000")
    add(
        "--streams",
        type=_counts,
        help="open idle event streams to measure server RSS at (default 200,1000; --quick: 200)",
    )
    add("--event-rate", type=float, default=100.0, help="writes/s for the event delay (100)")
    add("--event-seconds", type=int, help="measured seconds of event delay (default 15)")
    add("--sync-rounds", type=int, help="full syncs per server (default 3, --quick 1)")
    add(
        "--sync-tasks",
        type=int,
        default=Sizes().sync_tasks,
        help="tasks of the account a full sync pulls (default 10,000)",
    )
    add("--database-name", default="taskapp_bench", help="database to (re)create")
    add("--output", type=Path, default=RESULTS / "latest.json", help="the JSON results file")
    return parser


def options_from(argv: Sequence[str] | None) -> Options:
    args = _parser().parse_args(argv)
    quick = args.quick
    only = args.only
    return Options(
        scenarios=tuple(BY_KEY[k] for k in only if k in BY_KEY) if only else SCENARIOS,
        measurements=frozenset(k for k in only if k in MEASUREMENTS)
        if only
        else frozenset(MEASUREMENTS),
        stream_steps=args.streams or ((200,) if quick else (200, 1000)),
        event_rate=args.event_rate,
        event_warmup=1 if quick else 3,
        event_seconds=args.event_seconds or (5 if quick else 15),
        sync_rounds=args.sync_rounds or (1 if quick else 3),
        workers=args.workers or ((1,) if quick else (1, 2)),
        duration=3 if quick else args.duration,
        warmup=1 if quick else args.warmup,
        rounds=1 if quick else args.rounds,
        reference=not args.no_reference,
        pool_fairness_seconds=args.pool_fairness_seconds
        if args.pool_fairness_seconds is not None
        else (2 if quick else 3),
        ceiling_seconds=args.ceiling_seconds
        if args.ceiling_seconds is not None
        else (2 if quick else 5),
        threads=args.threads,
        port=args.port,
        profile=frozenset(args.profile),
        export=not args.no_export,
        sizes=Sizes(history_rows=args.history_rows, sync_tasks=args.sync_tasks),
        database_name=args.database_name,
        output=args.output,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = options_from(argv)
    interrupt_on_sigterm()
    try:
        run(options)
    except (MissingTool, DatabaseInUse) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        say("interrupted; cleaned up")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
