"""Optional: sample the server with py-spy during a scenario and summarise where time goes."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_GRACE_SECONDS = 60
# Frames whose file path contains the key are attributed to that component.
COMPONENTS = (
    ("/sqlalchemy/", "sqlalchemy"),
    ("/asyncpg/", "asyncpg"),
    ("/litestar/", "litestar"),
    ("/uvicorn/", "uvicorn"),
    ("/msgspec/", "msgspec"),
    ("/jwt/", "pyjwt"),
    ("/taskapp/", "taskapp"),
    ("/argon2/", "argon2"),
    ("/asyncio/", "asyncio"),
    ("/site-packages/", "other libraries"),
    ("/lib/python3", "stdlib"),
)


def component(file: str) -> str:
    return next((name for key, name in COMPONENTS if key in file), "other")


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """Shares of the event-loop threads' busy samples (idle samples are not recorded)."""

    samples: int  # busy samples of the event-loop (main) threads
    other_threads_samples: int  # e.g. Argon2 and the thread pool
    file: str
    top_self: list[tuple[str, float]] = field(default_factory=list)  # (frame, % of samples)
    top_total: list[tuple[str, float]] = field(default_factory=list)
    by_component: list[tuple[str, float]] = field(default_factory=list)


def _frame_name(frame: dict[str, Any]) -> str:
    if not frame.get("file"):
        return "(native code, no Python frame)"
    return f"{frame['name']} ({Path(frame['file']).name}:{frame.get('line', '?')})"


def summarize(path: Path, top: int = 15) -> ProfileSummary:
    """Self and inclusive time per frame, and self time per component, from speedscope."""
    document = json.loads(path.read_text())
    frames = document["shared"]["frames"]
    names = [_frame_name(frame) for frame in frames]
    self_time: Counter[int] = Counter()
    total_time: Counter[int] = Counter()
    by_component: Counter[str] = Counter()
    samples = other = 0
    for profile in document["profiles"]:
        if "MainThread" not in profile["name"]:  # uvicorn runs each event loop there
            other += len(profile["samples"])
            continue
        for stack in profile["samples"]:
            samples += 1
            leaf = stack[-1] if stack else None
            if leaf is None:
                continue
            self_time[leaf] += 1
            by_component[component(frames[leaf].get("file") or "")] += 1
            for index in set(stack):
                total_time[index] += 1

    def share(count: int) -> float:
        return round(100 * count / samples, 1) if samples else 0.0

    return ProfileSummary(
        samples=samples,
        other_threads_samples=other,
        file=str(path),
        top_self=[(names[i], share(n)) for i, n in self_time.most_common(top)],
        top_total=[
            (names[i], share(n))
            for i, n in total_time.most_common(top * 4)
            if share(n) < 90  # skip the event loop and other frames every sample shares
        ][:top],
        by_component=[(name, share(n)) for name, n in by_component.most_common()],
    )


class Recording:
    """`py-spy record` on the server's whole process tree for a fixed number of seconds."""

    def __init__(self, py_spy: str, pid: int, seconds: int, output: Path) -> None:
        self._output = output
        self._seconds = seconds
        self._process = subprocess.Popen(  # noqa: S603 - py-spy with arguments we built
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--rate",
                "100",
                "--duration",
                str(seconds),
                "--format",
                "speedscope",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def finish(self) -> ProfileSummary:
        try:
            _, errors = self._process.communicate(timeout=self._seconds + _GRACE_SECONDS)
        finally:
            self.kill()
        if not self._output.exists():
            raise RuntimeError(f"py-spy wrote no profile: {errors.strip()[-500:]}")
        return summarize(self._output)

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=_GRACE_SECONDS)
