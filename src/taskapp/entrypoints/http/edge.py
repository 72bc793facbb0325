"""The outermost layer of every request: client address, id, security headers, body-read
timeout, client aborts, access log and metrics.

It wraps the whole Litestar app, so 404s, 405s and CORS answers get the same treatment.
The HTTP server limits header size and the time headers may take (cli.py); the body is
read by the app, so its inactivity limit and the client leaving halfway are seen here.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from taskapp.adapters.postgres.unit_of_work import committed_position
from taskapp.entrypoints.http.metrics import HttpMetrics
from taskapp.entrypoints.http.proxies import TrustedProxies

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# nginx's status for "the client closed the connection before the answer": not a 5xx.
CLIENT_CLOSED_REQUEST = 499
access_logger = logging.getLogger("taskapp.access")


class ClientDisconnected(Exception):
    """The client closed the connection before its request body had arrived."""


class BodyReadTimeout(Exception):
    """No part of the request body arrived within BODY_READ_TIMEOUT_SECONDS."""


def request_id_of(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else None


_HEADERS = ((b"x-content-type-options", b"nosniff"),)
# Per-user data: never to be stored by a shared cache.
_API_HEADERS = (*_HEADERS, (b"cache-control", b"no-store"))
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# Extra headers for a 2xx answer to an /api/ mutation, asked once the answer starts.
MutationHeaders = Callable[[Scope], Awaitable[list[tuple[bytes, bytes]]]]


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        metrics: HttpMetrics,
        *,
        access_log: bool,
        allowed_methods: dict[str, str] | None = None,
        proxies: TrustedProxies | None = None,
        body_read_timeout: float | None = None,
        mutation_headers: MutationHeaders | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.proxies = proxies or TrustedProxies(())
        self.body_read_timeout = body_read_timeout
        self.mutation_headers = mutation_headers
        # Litestar's automatic OPTIONS answer can list only some of a path's methods when
        # they come from several handlers; the full list per route template fixes `Allow`.
        self.allowed_methods = allowed_methods or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        committed_position.set(None)  # X-Sync-Cursor speaks of this request's writes only
        method: str = scope["method"]  # type: ignore[typeddict-item]
        request_id = _incoming_request_id(scope) or f"{random.getrandbits(128):032x}"
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        is_api = scope["path"].startswith("/api/")
        mutation_headers = self.mutation_headers if is_api and method not in _READS else None
        status = 500
        if self.proxies:
            _apply_forwarded_for(scope, self.proxies)
        body_pending = True
        client_gone = False

        async def receive_body() -> ReceiveMessage:
            """Until the body is complete: each part within the timeout, and a disconnect
            raised as the client abort it is (the app's error map answers 499, unlogged)."""
            nonlocal body_pending, client_gone
            if not body_pending:  # later calls only wait for a disconnect: no limit
                return await receive()
            try:
                async with asyncio.timeout(self.body_read_timeout):
                    message = await receive()
            except TimeoutError:
                raise BodyReadTimeout from None
            if message["type"] == "http.disconnect":
                client_gone = True
                raise ClientDisconnected
            body_pending = bool(message.get("more_body", False))
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Appended as raw pairs: no response of the app sets these three.
                added: list[tuple[bytes, bytes]] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id.encode()),
                    *(_API_HEADERS if is_api else _HEADERS),
                ]
                if mutation_headers is not None and 200 <= status < 300:
                    added += await mutation_headers(scope)  # X-Sync-Cursor (sync.py)
                message["headers"] = added
                if method == "OPTIONS":
                    headers = MutableScopeHeaders.from_message(message)
                    template = scope.get("path_template")
                    if "allow" in headers and template in self.allowed_methods:
                        headers["Allow"] = self.allowed_methods[template]
            await send(message)

        try:
            await self.app(scope, receive_body, send_with_headers)
        except Exception:
            if not client_gone:
                raise
            # Answering a client that has left can fail in the server; nobody is listening.
        finally:
            if client_gone:
                status = CLIENT_CLOSED_REQUEST
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
                        # An API token's id (set by scopes.authorize), never the token.
                        "token_id": state.get("token_id"),
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
            return text if _SANE_REQUEST_ID.fullmatch(text) else None
    return None


def _apply_forwarded_for(scope: Scope, proxies: TrustedProxies) -> None:
    client = scope.get("client")
    if client is None:
        return
    forwarded = [
        value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"
    ]
    address = proxies.client_address(client[0], forwarded)
    if address != client[0]:
        scope["client"] = (address, 0)
