"""The OpenAPI document and a Swagger UI page, served with no internet access.

Swagger UI's files come from the `swagger-ui-bundle-v2` wheel and are served by the app
itself, instead of the CDN URLs Litestar's render plugins use by default.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from litestar import Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

import taskapp
from taskapp.entrypoints.http.openapi import SECURITY_SCHEMES, camel_operation_id
from taskapp.entrypoints.http.scopes import SCOPE_OPTION, Access

ASSETS = "/schema/assets"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="taskapp",
        version=taskapp.__version__,
        description="Task management API. Every /api/v1 response is an envelope "
        "{success, data, popup, error}. Sign in with POST /api/v1/auth/login, then "
        "Authorize with the access token.",
        components=SECURITY_SCHEMES,
        use_handler_docstrings=True,
        operation_id_creator=camel_operation_id,
        # The document and the docs page are public (see scopes.py).
        openapi_router=Router(
            path="/schema",
            route_handlers=[],
            include_in_schema=False,
            opt={SCOPE_OPTION: Access.PUBLIC},
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                path=["/", "/swagger"],
                js_url=f"{ASSETS}/swagger-ui-bundle.js",
                css_url=f"{ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f'<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">',
            ),
            JsonRenderPlugin(path="/openapi.json"),
        ],
    )


def swagger_assets() -> ControllerRouterHandler:
    return create_static_files_router(
        path=ASSETS,
        directories=[Path(swagger_ui_bundle.swagger_ui_path)],
        include_in_schema=False,
        cache_control=None,
        opt={SCOPE_OPTION: Access.PUBLIC},
    )
