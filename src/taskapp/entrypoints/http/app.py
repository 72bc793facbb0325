"""The Litestar application factory: routes, dependencies, the error map, middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

import taskapp
from taskapp.bootstrap import Container, build_container
from taskapp.config import Settings
from taskapp.entrypoints.http.accounts import AuthController
from taskapp.entrypoints.http.dependencies import PROVIDERS
from taskapp.entrypoints.http.errors import handle_error
from taskapp.entrypoints.http.exports import ExportController
from taskapp.entrypoints.http.health import live, ready
from taskapp.entrypoints.http.history import HistoryController
from taskapp.entrypoints.http.openapi import SECURITY_SCHEMES, complete_openapi
from taskapp.entrypoints.http.pagination import reject_unknown_query_parameters
from taskapp.entrypoints.http.request_id import RequestIdMiddleware
from taskapp.entrypoints.http.reviews import ReviewController
from taskapp.entrypoints.http.stats import StatsController
from taskapp.entrypoints.http.tasks import TaskController


def create_app(settings: Settings, container: Container | None = None) -> Litestar:
    """Build the app. A given container is used as is (its owner closes it); otherwise the
    app's lifespan builds one at start-up and closes it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        built = build_container(settings)
        app.state.container = built
        await built.accounts.warm_up()
        try:
            yield
        finally:
            await built.close()

    api = Router(
        path="/api/v1",
        route_handlers=[
            AuthController,
            TaskController,
            ExportController,
            HistoryController,
            StatsController,
            ReviewController,
        ],
        before_request=reject_unknown_query_parameters,
        dependencies=PROVIDERS,
    )
    app = Litestar(
        route_handlers=[api, live, ready],
        lifespan=[lifespan] if container is None else [],
        state=State({"container": container}) if container is not None else None,
        exception_handlers={Exception: handle_error},
        request_max_body_size=settings.max_request_body_bytes,
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=[
                "ETag",
                "Location",
                "X-Request-ID",
                "Retry-After",
                "Idempotent-Replayed",
            ],
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        ),
        openapi_config=OpenAPIConfig(
            title="taskapp",
            version=taskapp.__version__,
            description="Task management API. Every /api/v1 response is an envelope.",
            components=SECURITY_SCHEMES,
            use_handler_docstrings=True,
        ),
        debug=False,
        logging_config=None,  # logging is configured by the entrypoint (cli), not the app
    )
    # Outermost, so 404s, 405s and CORS answers carry the request id too.
    app.asgi_handler = RequestIdMiddleware(app.asgi_handler)
    complete_openapi(app)
    return app
