"""The Litestar application factory: routes, dependencies, the error map, middleware."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.routes import HTTPRoute

from taskapp.bootstrap import Container, build_container
from taskapp.config import Settings
from taskapp.entrypoints.http.accounts import AuthController
from taskapp.entrypoints.http.api_tokens import ApiTokenController
from taskapp.entrypoints.http.cors import EXPOSED_HEADERS, RefusedOriginLog
from taskapp.entrypoints.http.dependencies import PROVIDERS
from taskapp.entrypoints.http.docs import openapi_config, swagger_assets
from taskapp.entrypoints.http.edge import EdgeMiddleware
from taskapp.entrypoints.http.errors import handle_error
from taskapp.entrypoints.http.events import EventController
from taskapp.entrypoints.http.exports import ExportController
from taskapp.entrypoints.http.health import live, ready
from taskapp.entrypoints.http.history import HistoryController
from taskapp.entrypoints.http.imports import ImportController
from taskapp.entrypoints.http.labels import LabelController
from taskapp.entrypoints.http.lists import ListController
from taskapp.entrypoints.http.metrics import HttpMetrics, metrics_endpoint
from taskapp.entrypoints.http.openapi import complete_openapi
from taskapp.entrypoints.http.pagination import reject_unknown_query_parameters
from taskapp.entrypoints.http.proxies import TrustedProxies
from taskapp.entrypoints.http.reviews import ReviewController
from taskapp.entrypoints.http.stats import StatsController
from taskapp.entrypoints.http.sync import SyncController, sync_cursor_header
from taskapp.entrypoints.http.tasks import TaskController
from taskapp.entrypoints.http.webhook_payloads import JsonEventPayloads
from taskapp.entrypoints.http.webhooks import WebhookController
from taskapp.entrypoints.webhook_delivery import DeliveryLoop

logger = logging.getLogger(__name__)


def settle_garbage_collector() -> None:
    """Everything built at start-up lives as long as the process: move it out of the
    collector's sight (gc.freeze), so full collections stop walking it, and let the young
    generation grow before it is collected. Measured with `make bench`: the long tail of
    request latency (p99) came from collections of the whole start-up heap."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


# Called first when a server worker is told to stop (see `hear_stop_signals`).
STOP_CALLBACKS: list[Callable[[], None]] = []


def hear_stop_signals() -> None:
    """Run `STOP_CALLBACKS` as soon as granian's worker is told to stop (SIGINT / SIGTERM).

    Granian's worker stops gracefully: it waits for open responses to finish before the
    lifespan's shutdown runs, so an event stream (which never finishes by itself) would hold
    the worker until it is killed. The worker's loop is uvloop, whose signal handlers cannot
    be read and chained; so the function granian calls to install them (after loading the
    app, in the same process) is wrapped: its handlers are installed again, doing the same
    (`signal_event.set()`) after the callbacks. Called by the worker entry only; if
    granian's internals change, streams still end, when the worker is killed."""
    try:
        from granian import _signals
    except ImportError:  # pragma: no cover - granian is a dependency
        return
    original: Callable[[Any], Any] = _signals.set_loop_signals
    if getattr(original, "taskapp_wrapped", False):
        return

    def set_loop_signals(loop: asyncio.AbstractEventLoop) -> Any:
        signal_event = original(loop)

        def stop() -> None:
            for callback in STOP_CALLBACKS:
                try:
                    callback()
                except Exception:  # stopping goes on whatever a callback does
                    logger.exception("a stop callback failed")
            signal_event.set()

        with contextlib.suppress(NotImplementedError, RuntimeError):
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop)
        return signal_event

    set_loop_signals.taskapp_wrapped = True  # type: ignore[attr-defined]
    _signals.set_loop_signals = set_loop_signals


def create_app(settings: Settings, container: Container | None = None) -> Litestar:
    """Build the app. A given container is used as is (its owner closes it); otherwise the
    app's lifespan builds one at start-up and closes it at shutdown."""

    metrics = HttpMetrics()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        built = build_container(settings, JsonEventPayloads())
        app.state.container = built
        metrics.watch_pool(built.database.gauges)
        await built.accounts.warm_up()
        STOP_CALLBACKS.append(built.end_event_streams)
        deliveries = DeliveryLoop(
            built.dispatcher,
            settings.webhook_poll_seconds,
            timedelta(days=settings.webhook_delivery_retention_days),
            built.change_feed,
        )
        if settings.webhook_delivery:
            deliveries.start()
        settle_garbage_collector()
        try:
            yield
        finally:
            STOP_CALLBACKS.remove(built.end_event_streams)
            await deliveries.stop()
            await built.close()

    api = Router(
        path="/api/v1",
        route_handlers=[
            AuthController,
            ApiTokenController,
            TaskController,
            ListController,
            LabelController,
            ExportController,
            ImportController,
            HistoryController,
            StatsController,
            ReviewController,
            SyncController,
            EventController,
            WebhookController,
        ],
        before_request=reject_unknown_query_parameters,
        dependencies=PROVIDERS,
    )
    app = Litestar(
        route_handlers=[api, live, ready, metrics_endpoint, swagger_assets()],
        lifespan=[lifespan] if container is None else [],
        state=State({"container": container, "metrics": metrics}),
        exception_handlers={Exception: handle_error},
        request_max_body_size=settings.max_request_body_bytes,
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=EXPOSED_HEADERS,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        ),
        openapi_config=openapi_config(),
        debug=False,
        logging_config=None,  # logging is configured by the entrypoint (cli), not the app
    )
    if container is not None:
        metrics.watch_pool(container.database.gauges)
    # Outermost, so 404s, 405s and CORS answers get request ids, headers and metrics too.
    allowed = {
        route.path_format: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }
    app.asgi_handler = EdgeMiddleware(
        RefusedOriginLog(app.asgi_handler, settings.cors_origins),
        metrics,
        access_log=settings.access_log,
        allowed_methods=allowed,
        proxies=TrustedProxies(settings.forwarded_allow_ips),
        body_read_timeout=settings.body_read_timeout_seconds,
        mutation_headers=sync_cursor_header,
    )
    complete_openapi(app)
    return app
