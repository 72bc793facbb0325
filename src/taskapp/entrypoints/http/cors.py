"""CORS: which origins may call the API from a browser, and a log line for each refused one.

Litestar's CORS middleware answers (or leaves unanswered) the browser; this wrapper only
tells the operator, once per origin and process, that a page was refused, so "my
frontend gets a CORS error" is one grep away from "add it to CORS_ORIGINS".
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from litestar.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("taskapp.cors")

# What a browser's script may read from an answer (beyond the CORS-safelisted headers).
EXPOSED_HEADERS = [
    "Content-Disposition",
    "ETag",
    "Location",
    "X-Request-ID",
    "X-Sync-Cursor",
    "Retry-After",
    "Idempotent-Replayed",
]
_REMEMBERED = 1000  # refused origins logged per process; more are not logged again


class RefusedOriginLog:
    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)
        self.logged: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "*" not in self.allowed:  # type: ignore[comparison-overlap]
            self._check(scope)
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> None:
        origin = host = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"host":
                host = value.decode("latin-1")
        if origin is None or origin in self.allowed or origin in self.logged:
            return
        if urlsplit(origin).netloc == host:  # the API's own pages: not cross-origin
            return
        if len(self.logged) < _REMEMBERED:
            self.logged.add(origin)
        logger.warning(
            "refused a cross-origin request from %s: not in CORS_ORIGINS (allowed: %s)",
            origin,
            ", ".join(sorted(self.allowed)) or "none",
        )
