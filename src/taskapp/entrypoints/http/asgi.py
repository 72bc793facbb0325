"""The ASGI entry for server workers: settings from the environment, then the app."""

from __future__ import annotations

from litestar import Litestar

from taskapp.config import load_settings
from taskapp.entrypoints.http.app import create_app, hear_stop_signals
from taskapp.entrypoints.logs import configure_logging


def app_from_environment() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.is_production)
    hear_stop_signals()  # open event streams end at once when the worker is stopped
    return create_app(settings)
