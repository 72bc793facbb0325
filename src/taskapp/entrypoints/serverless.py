"""The ASGI app for serverless runtimes (Vercel's Python runtime, Lambda adapters).

A function instance gets no lifespan events and may be frozen or dropped between requests,
so nothing here needs them:

- The container is built at import and opens nothing: the pool connects on the first
  query (behind Neon's pooler or PgBouncer: `DB_POOLER=transaction`, see README).
- No background work outlives a request: no LISTEN connection (API token revocations then
  take effect within the cache's untrusted TTL of 2 s; `GET /api/v1/events` answers 503,
  clients poll `GET /api/v1/sync`), no migrations (CI runs `taskapp db upgrade`).
- A runtime may run each invocation on an event loop of its own; connections belong to the
  loop that opened them, so when the loop changes the container is built anew and the old
  one's idle connections are dropped.

`api/index.py` (Vercel's entry) re-exports `app` from here.
"""

from __future__ import annotations

import asyncio

from litestar import Litestar
from litestar.types import Receive, Scope, Send

from taskapp.bootstrap import Container, build_container
from taskapp.config import ConfigError, Settings, load_settings
from taskapp.entrypoints.http.app import create_app
from taskapp.entrypoints.http.webhook_payloads import JsonEventPayloads
from taskapp.entrypoints.logs import configure_logging


class ServerlessApp:
    """One Litestar app for the instance's life; its container follows the event loop."""

    def __init__(self, settings: Settings) -> None:
        if settings.database_url is None:
            raise ConfigError(
                "DATABASE_URL is required in a serverless function (there is no embedded "
                "PostgreSQL there): use the pooled connection string"
            )
        self.settings = settings
        self.container = self._build()
        self.asgi: Litestar = create_app(settings, self.container)
        self._loop: asyncio.AbstractEventLoop | None = None

    def _build(self) -> Container:
        return build_container(self.settings, JsonEventPayloads(), long_lived=False)

    def _follow(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not None and loop is not self._loop:
            self.container.database.abandon()
            self.container = self._build()
            self.asgi.state.container = self.container
            self.asgi.state.metrics.watch_pool(self.container.database.gauges)
        self._loop = loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._follow(loop)
        await self.asgi(scope, receive, send)


def app_from_environment() -> ServerlessApp:
    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.is_production)
    return ServerlessApp(settings)


app = app_from_environment()
