"""The `taskapp` command: serve, db upgrade|downgrade|current, openapi."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import socket
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
        return _print_openapi(settings, markdown=args.markdown)
    # SIGTERM while starting (migrations, the embedded PostgreSQL) unwinds like Ctrl-C, so
    # the database is stopped, not killed; once serving, the server handles both signals and
    # returns, and the embedded PostgreSQL below is stopped after the API.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)  # a closed terminal stops it cleanly too
    if args.command == "serve":
        problem = _port_problem(args.host or settings.host, args.port or settings.port)
        if problem is not None:  # before the database starts: nothing to undo
            print(f"taskapp: {problem}", file=sys.stderr)
            return 1
    try:
        with _Database(settings) as database_url:
            given = settings.database_url is not None
            settings = settings.with_database_url(database_url)
            if args.command == "serve":
                if settings.migrate_on_start:
                    migrations.upgrade(_migration_url(settings))
                return _serve(dataclasses.replace(settings, database_url_given=given), args)
            _migrate(args, _migration_url(settings))
    except ConfigError as error:
        print(f"taskapp: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def _migration_url(settings: Settings) -> str:
    """Migrations hold a session-level advisory lock: never through a transaction pooler,
    whose next statement may run on another server connection (and leave the lock held)."""
    url = settings.session_database_url
    if url is None:
        raise ConfigError(
            "migrations need a direct connection: set DATABASE_DIRECT_URL (DB_POOLER is "
            "transaction), or MIGRATE_ON_START=false and run `taskapp db upgrade` elsewhere"
        )
    return url


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _port_problem(host: str, port: int) -> str | None:
    """Why the API could not listen on host:port (another program holds it), else None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return (
                f"cannot listen on {host}:{port} ({error.strerror}); another program holds "
                f"the port: stop it, or choose another with PORT={port + 1} (or --port)"
            )
    return None


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
    openapi = commands.add_parser("openapi", help="print the OpenAPI document as JSON")
    openapi.add_argument(
        "--markdown", action="store_true", help="print the API reference (docs/api.md) instead"
    )
    return parser


class _Database:
    """The configured DATABASE_URL, or an embedded PostgreSQL for the command's lifetime."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._embedded: EmbeddedPostgres | None = None

    def __enter__(self) -> str:
        if self._settings.database_url is not None:
            return self._settings.database_url
        if not EmbeddedPostgres.available():
            raise ConfigError(
                "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
                "set DATABASE_URL, or install it with `pip install 'taskapp[embedded]'`"
            )
        self._embedded = EmbeddedPostgres(self._settings.data_dir / "postgres")
        url = self._embedded.start()
        logger.debug("using the embedded PostgreSQL in %s", self._settings.data_dir / "postgres")
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

    host, port = args.host or settings.host, args.port or settings.port
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    logger.info(
        "taskapp: API http://%s:%d/api/v1 · docs http://%s:%d/schema · data %s",
        shown,
        port,
        shown,
        port,
        "DATABASE_URL" if settings.database_url_given else settings.data_dir,
    )
    server = Granian(
        "taskapp.entrypoints.http.asgi:app_from_environment",
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=args.workers or settings.workers,
        # Per worker (each open event stream counts); the listen queue holds what waits.
        backpressure=settings.max_concurrent_requests,
        backlog=max(1024, settings.max_concurrent_requests),
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


def _print_openapi(settings: Settings, *, markdown: bool) -> int:
    if markdown:
        from taskapp.entrypoints.http.reference import markdown_reference

        sys.stdout.write(markdown_reference(json.loads(openapi_json(settings))))
    else:
        sys.stdout.write(openapi_json(settings))
    return 0


def openapi_json(settings: Settings) -> str:
    """The OpenAPI document as `taskapp openapi` prints it (the TypeScript client's input)."""
    from taskapp.entrypoints.http.app import create_app
    from taskapp.entrypoints.http.openapi import openapi_document

    document = openapi_document(create_app(settings))
    return json.dumps(document, indent=2, default=str) + "\n"


if __name__ == "__main__":
    sys.exit(main())
