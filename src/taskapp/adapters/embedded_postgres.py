"""An embedded PostgreSQL (the `pgserver` wheel ships real binaries) for zero set-up.

Used by `taskapp serve` when no DATABASE_URL is given, and by the tests when no other
server is available. It listens on a Unix socket only, inside its data directory.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._server: Any = None

    @staticmethod
    def available() -> bool:
        """Whether the `pgserver` wheel is installed (the `embedded` extra: `make run` and
        the tests install it; the production image leaves it out)."""
        return importlib.util.find_spec("pgserver") is not None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded PostgreSQL is not running")
        uri: str = self._server.get_uri()
        return uri

    def start(self) -> str:
        with warnings.catch_warnings():
            # pgserver keeps its lock file in the user's runtime dir; where XDG_RUNTIME_DIR
            # is unset (a container, CI, sudo), platformdirs says so on every start and
            # falls back to /tmp, which does just as well here.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import pgserver  # imported here: starting it is the only reason to load it

        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        logger.debug("starting embedded PostgreSQL in %s", self._data_dir)
        self._server = pgserver.get_server(  # type: ignore[attr-defined]
            self._data_dir, cleanup_mode="stop"
        )
        return self.url

    def _forget_dead_handles(self) -> None:
        """pgserver stops the server when its last handle closes, counting handles by pid in
        a file. A process killed without cleanup stays listed and would keep the server up
        forever, so drop the pids of processes that no longer exist."""
        handles = self._data_dir / ".handle_pids.json"
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        live = [pid for pid in pids if isinstance(pid, int) and _is_running(pid)]
        if live != pids:
            handles.write_text(json.dumps(live))

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            logger.debug("stopping embedded PostgreSQL")
            server.cleanup()


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
