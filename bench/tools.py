"""The external tools the benchmark drives, found on PATH or beside the interpreter."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

WRK_INSTALL_HINT = (
    "wrk (the HTTP load generator) is not on PATH. Install it, then run the benchmark again:\n"
    "  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y wrk\n"
    "  Fedora:         sudo dnf install wrk\n"
    "  macOS:          brew install wrk\n"
    "  from source:    https://github.com/wg/wrk (make; put ./wrk on PATH)"
)
PY_SPY_INSTALL_HINT = "--profile needs py-spy: .venv/bin/pip install py-spy"


class MissingTool(RuntimeError):
    pass


def find_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise MissingTool(WRK_INSTALL_HINT)
    return found


def find_py_spy() -> str:
    beside_python = Path(sys.executable).with_name("py-spy")
    found = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
    if found is None:
        raise MissingTool(PY_SPY_INSTALL_HINT)
    return found
