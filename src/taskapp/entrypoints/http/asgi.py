"""The ASGI entry for server workers: settings from the environment, then the app."""

from __future__ import annotations

from litestar import Litestar

from taskapp.config import load_settings
from taskapp.entrypoints.http.app import create_app


def app_from_environment() -> Litestar:
    return create_app(load_settings())
