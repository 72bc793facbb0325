"""Logging: JSON lines in production, readable lines in development, secrets redacted.

Redaction happens on the final formatted line, so no formatter, handler or library message
can carry a bearer token, a JWT, an API token, a refresh token or a password out of the
process.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_REDACTIONS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    # API tokens anywhere (a URL, a body, an error message): `tat_` and the random part.
    (re.compile(r"(?<![A-Za-z0-9_])tat_[A-Za-z0-9_-]{16,}"), "[REDACTED-API-TOKEN]"),
    (
        re.compile(
            r"(?i)([\"']?(?:password|current_password|new_password|refresh_token|access_token|"
            r"authorization|jwt_secret|secret|token)[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,}&]+)"
        ),
        r"\1[REDACTED]",
    ),
]
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


class ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return redact(line)


def configure_logging(level: str, *, json_lines: bool, stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else ConsoleFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("_granian", "granian.access"):  # the HTTP server's own loggers
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # The embedded PostgreSQL's launcher logs every command it runs, with its whole output
    # (about 70 lines at each start): shown at DEBUG only, its warnings and errors always.
    logging.getLogger("pgserver").setLevel(
        logging.NOTSET if logging.getLevelName(level) == logging.DEBUG else logging.WARNING
    )
    return handler
