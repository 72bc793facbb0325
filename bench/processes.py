"""What /proc says about a process tree: members, resident memory and CPU time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    pid: int
    command: str
    rss_mb: float
    peak_rss_mb: float  # VmHWM: the high-water mark over the process's life


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """pid and every process below it (uvicorn's workers, multiprocessing helpers)."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _command(pid: int) -> str:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:120]


def memory(pid: int) -> list[ProcessMemory]:
    return [
        ProcessMemory(p, _command(p), _status_kb(p, "VmRSS") / 1024, _status_kb(p, "VmHWM") / 1024)
        for p in descendants(pid)
    ]


def tree_rss_mb(pid: int) -> float:
    return sum(_status_kb(p, "VmRSS") for p in descendants(pid)) / 1024


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the tree's live processes."""
    total = 0
    for p in descendants(pid):
        fields = _stat_fields(p)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / _TICKS_PER_SECOND


def cpu_snapshot() -> dict[int, tuple[str, float]]:
    """{pid: (command name, CPU seconds)} for every process: to see who else was busy."""
    snapshot = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        snapshot[pid] = (name, (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND)
    return snapshot


def other_cpu_seconds(
    before: dict[int, tuple[str, float]],
    after: dict[int, tuple[str, float]],
    ours: set[int],
    ignored_names: frozenset[str] = frozenset({"wrk", "postgres"}),
) -> float:
    """CPU used between two snapshots by processes that are not part of the measurement
    (neither `ours`, nor wrk, nor PostgreSQL): other work sharing the machine."""
    total = 0.0
    for pid, (name, seconds) in after.items():
        if pid in ours or name in ignored_names:
            continue
        total += seconds - before.get(pid, (name, 0.0))[1]
    return total


def maps_mention(pid: int, word: str) -> bool:
    """Whether any process of the tree has a file whose path contains `word` mapped (a
    native extension module, say)."""
    for p in descendants(pid):
        try:
            if word in (_PROC / str(p) / "maps").read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False
