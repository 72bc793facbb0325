"""The `taskapp` command: serve, db upgrade|downgrade|current, openapi."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from taskapp.adapters.embedded_postgres import EmbeddedPostgres
from taskapp.adapters.postgres import migrations
from taskapp.config import ConfigError, Settings, export_for_workers, load_settings
from taskapp.entrypoints.logs import configure_logging

logger = logging.getLogger("taskapp")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"taskapp: configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "serve" and args.no_access_log:
        settings = dataclasses.replace(settings, access_log=False)
        export_for_workers(ACCESS_LOG="false")
    configure_logging(settings.log_level, json_lines=settings.is_production)
    if args.command == "openapi":
        return _print_openapi(settings)
    # SIGTERM while starting (migrations, the embedded PostgreSQL) unwinds like Ctrl-C, so
    # the database is stopped, not killed; once serving, the server handles both signals and
    # returns, and the embedded PostgreSQL below is stopped after the API.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with _Database(settings) as database_url:
            if args.command == "serve":
                migrations.upgrade(database_url)
                return _serve(settings.with_database_url(database_url), args)
            _migrate(args, database_url)
    except KeyboardInterrupt:
        return 0
    return 0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _migrate(args: argparse.Namespace, database_url: str) -> None:
    if args.db_command == "upgrade":
        migrations.upgrade(database_url, args.revision)
    elif args.db_command == "downgrade":
        migrations.downgrade(database_url, args.revision)
    else:
        migrations.print_current(database_url)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskapp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", help="bind address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: WEB_CONCURRENCY, 1)")
    serve.add_argument("--no-access-log", action="store_true", help="turn the access log off")
    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate to a revision (default: head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="migrate down to a revision")
    downgrade.add_argument("revision")
    db_commands.add_parser("current", help="print the current revision")
    commands.add_parser("openapi", help="print the OpenAPI document as JSON")
    return parser


class _Database:
    """The configured DATABASE_URL, or an embedded PostgreSQL for the command's lifetime."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._embedded: EmbeddedPostgres | None = None

    def __enter__(self) -> str:
        if self._settings.database_url is not None:
            return self._settings.database_url
        self._embedded = EmbeddedPostgres(self._settings.data_dir / "postgres")
        url = self._embedded.start()
        logger.info("using the embedded PostgreSQL in %s", self._settings.data_dir / "postgres")
        export_for_workers(DATABASE_URL=url)
        return url

    def __exit__(self, *_: object) -> None:
        if self._embedded is not None:
            self._embedded.stop()


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """Granian (docs/decisions/0010-http-server.md): HTTP/1.1 only, so its header size limit
    and header-read timeout hold for every connection. Its workers build the app from the
    environment; the main process stops them gracefully on SIGINT / SIGTERM and returns."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    server = Granian(
        "taskapp.entrypoints.http.asgi:app_from_environment",
        factory=True,
        interface=Interfaces.ASGI,
        address=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            # Also the keep-alive idle limit: an open connection must start its next
            # request's headers within this time.
            header_read_timeout=max(1, round(settings.header_read_timeout_seconds * 1000)),
            max_buffer_size=settings.max_request_header_bytes,
        ),
        websockets=False,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=_GRANIAN_LOGGING,  # its lines go through our handler (redaction, JSON)
        log_access=False,  # the app writes its own, richer access log
        workers_kill_timeout=_GRACEFUL_STOP_SECONDS,
    )
    server.serve()
    return 0


_GRACEFUL_STOP_SECONDS = 20
_GRANIAN_LOGGING: dict[str, Any] = {
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    }
}


def _print_openapi(settings: Settings) -> int:
    from taskapp.entrypoints.http.app import create_app

    document = create_app(settings).openapi_schema.to_schema()
    json.dump(document, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
