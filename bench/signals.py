"""Signal handling: SIGTERM behaves like Ctrl-C, and clean-up steps are not interrupted."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so every `finally` and `__exit__` still runs."""
    signal.signal(signal.SIGTERM, _raise_interrupt)


@contextmanager
def uninterruptible() -> Iterator[None]:
    """Defer Ctrl-C and SIGTERM while a clean-up step runs (each step is bounded in time)."""
    received: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, remember) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt
