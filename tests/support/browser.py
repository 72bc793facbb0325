"""A real browser for the tests: headless Chromium (Debian package `chromium`, which
`.ci/run` installs) and static sites on 127.0.0.1 to load pages from."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it",
)


def chromium_command(profile: Path, *arguments: str) -> list[str]:
    """Headless Chromium with a throwaway profile and nothing of its own on the network."""
    assert CHROMIUM is not None
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *arguments,
    ]


@contextmanager
def static_site(
    root: Path, port: int, handler: type[SimpleHTTPRequestHandler] = SimpleHTTPRequestHandler
) -> Iterator[Path]:
    """A static file server for `root` on 127.0.0.1:`port`."""
    root.mkdir(exist_ok=True)
    serve = functools.partial(handler, directory=str(root))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), serve)
    except OSError as error:  # another program holds it: an environment conflict, not ours
        pytest.skip(f"port {port} is taken, cannot serve the page there: {error}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()
