"""The ASGI entry for server workers: settings from the environment, then the app."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys

from litestar import Litestar

from taskapp.config import load_settings
from taskapp.entrypoints.http.app import create_app, hear_stop_signals
from taskapp.entrypoints.logs import configure_logging

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def app_from_environment() -> Litestar:
    end_with_the_server()
    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.is_production)
    hear_stop_signals()  # open event streams end at once when the worker is stopped
    return create_app(settings)


def end_with_the_server() -> None:
    """A worker must not outlive the `taskapp serve` process that started it.

    Killed alone with SIGKILL (the OOM killer picks one process, not a group), the server
    process cannot stop its workers: an orphaned worker would go on serving on the old
    socket and hold the port, so a restart could not bind it. On Linux the kernel kills
    this worker when its parent dies. SIGKILL, not SIGTERM: until granian's worker serves,
    a SIGTERM meets the handler inherited from the server (lost), or a stop that waits for
    a worker not yet running (stuck); and the server's death is a crash already: requests
    in flight are cut, their transactions roll back, claimed webhook deliveries are sent
    again once their claims run out. A server gone before this was set: exit at once
    (nothing is open yet). Elsewhere than Linux, nothing changes."""
    parent = multiprocessing.parent_process()
    if sys.platform != "linux" or parent is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        return  # not allowed here (a sandbox): the worker behaves as before
    if os.getppid() != parent.pid:
        os._exit(1)
