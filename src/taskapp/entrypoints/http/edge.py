"""The outermost layer of every request: id, security headers, access log and metrics.

It wraps the whole Litestar app, so 404s, 405s and CORS answers get the same treatment.
"""

from __future__ import annotations

import logging
import random
import re
import time

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from taskapp.entrypoints.http.metrics import HttpMetrics

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_logger = logging.getLogger("taskapp.access")


def request_id_of(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else None


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        metrics: HttpMetrics,
        *,
        access_log: bool,
        allowed_methods: dict[str, str] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        # Litestar's automatic OPTIONS answer can list only some of a path's methods when
        # they come from several handlers; the full list per route template fixes `Allow`.
        self.allowed_methods = allowed_methods or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]  # type: ignore[typeddict-item]
        request_id = _incoming_request_id(scope) or f"{random.getrandbits(128):032x}"
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        is_api = scope["path"].startswith("/api/")
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers[REQUEST_ID_HEADER] = request_id
                headers["X-Content-Type-Options"] = "nosniff"
                if is_api:  # per-user data: never to be stored by a shared cache
                    headers["Cache-Control"] = "no-store"
                if method == "OPTIONS" and "allow" in headers:
                    template = scope.get("path_template")
                    if template in self.allowed_methods:
                        headers["Allow"] = self.allowed_methods[template]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            self.metrics.observe(method, route, status, elapsed)
            if self.access_log:
                access_logger.info(
                    "%s %s %s %.1fms",
                    method,
                    route,
                    status,
                    elapsed * 1000,
                    extra={
                        "request_id": request_id,
                        "user_id": state.get("user_id"),
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                return None
            return text if _SANE_REQUEST_ID.match(text) else None
    return None
