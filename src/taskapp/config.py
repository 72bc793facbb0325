"""Settings: read once from the environment (and `.env`), validated, frozen.

This is the only module that reads `os.environ`. Everything else receives a `Settings`
value, so tests and other services can build one by hand.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import platformdirs
from dotenv import dotenv_values

Environment = Literal["development", "production"]
_T = TypeVar("_T")
_MIN_JWT_SECRET_BYTES = 32
_DATABASE_URL_SCHEMES = ("postgresql://", "postgres://", "postgresql+asyncpg://")
# Neon's pooled endpoints carry this in their host name (ep-name-123456-pooler.region...).
_NEON_POOLER_MARK = "-pooler."
Pooler = Literal["none", "transaction"]
# The HTTP server (granian) reads headers into one buffer of this size: at least 8 KiB.
_MIN_HEADER_BYTES = 8 * 1024
_MAX_HEADER_BYTES = 1024 * 1024


# The usual development servers (Next.js / CRA 3000, Vite 5173, webpack / Vue CLI 8080),
# allowed cross-origin in development when CORS_ORIGINS is unset (decision 0019).
DEVELOPMENT_CORS_ORIGINS = tuple(
    f"http://{host}:{port}" for port in (3000, 5173, 8080) for host in ("localhost", "127.0.0.1")
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and says what is expected."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "INFO"
    access_log: bool = True
    environment: Environment = "development"
    cors_origins: tuple[str, ...] = DEVELOPMENT_CORS_ORIGINS
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("taskapp")))
    jwt_secret: str = ""
    jwt_issuer: str = "taskapp"
    jwt_audience: str = "taskapp-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    db_pool_size: int = 20
    db_pool_timeout_seconds: float = 5.0
    db_connect_timeout_seconds: float = 5.0
    db_statement_timeout_seconds: float = 15.0
    db_statement_cache: bool = True
    # A connection pooler in transaction mode (PgBouncer, Neon's pooled endpoint) between
    # taskapp and PostgreSQL: no statement cache, no session state, and what needs a session
    # (migrations' advisory lock, LISTEN) goes to `database_direct_url` instead.
    db_pooler: Pooler = "none"
    database_direct_url: str | None = None
    # `taskapp serve` applies pending migrations before serving (off when a one-shot
    # `taskapp db upgrade` runs them, e.g. docker-compose's migrate service, or CI).
    migrate_on_start: bool = True
    max_request_body_bytes: int = 64 * 1024
    # The server's limits on the way in (see README, Configuration).
    max_request_header_bytes: int = 16 * 1024
    header_read_timeout_seconds: float = 10.0
    # Requests one worker serves at once. Every open event stream is one, for as long as it
    # is open: granian's default (1024 divided by the workers) let a few hundred open tabs
    # hold a worker while every other request, health checks included, waited unanswered.
    # Beyond what the database pool can take, requests wait for a connection and get 503.
    max_concurrent_requests: int = 4096
    body_read_timeout_seconds: float = 30.0
    forwarded_allow_ips: tuple[str, ...] = ()
    password_hash_concurrency: int = 2
    rate_limit_enabled: bool = True
    rate_limit_window_seconds: int = 60
    rate_limit_per_address: int = 30
    rate_limit_per_email: int = 10
    redis_url: str | None = None
    # A comment line on an idle live-event stream (GET /api/v1/events) this often.
    events_heartbeat_seconds: float = 15.0
    # Webhooks: every process delivers unless told not to (serverless, or a dedicated API tier).
    webhook_delivery: bool = True
    # Development and tests only: targets on loopback/private addresses and plain http.
    webhook_allow_private_targets: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_retry_base_seconds: float = 5.0
    webhook_retry_window_seconds: int = 86400
    webhook_poll_seconds: float = 0.5
    webhook_delivery_retention_days: int = 30
    # Whether DATABASE_URL came from the environment (not the embedded database's).
    database_url_given: bool = False

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def behind_transaction_pooler(self) -> bool:
        return self.db_pooler == "transaction"

    @property
    def session_database_url(self) -> str | None:
        """A connection that keeps its session (advisory locks, LISTEN): the direct URL, or
        DATABASE_URL itself when no transaction pooler is in between; None when there is a
        pooler and no DATABASE_DIRECT_URL."""
        if self.database_direct_url is not None:
            return self.database_direct_url
        return None if self.behind_transaction_pooler else self.database_url

    def with_database_url(self, url: str) -> Settings:
        return replace(self, database_url=url)


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build Settings from the process environment, with `.env` filling the gaps."""
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return _parse(values)


def export_for_workers(**values: str) -> None:
    """Hand settings resolved at start-up (the embedded database's URL, command-line flags)
    to the worker processes the server spawns, which read the environment."""
    os.environ.update(values)


def _parse(env: Mapping[str, str]) -> Settings:
    reader = _Reader(env)
    defaults = Settings()
    environment = reader.choice("ENVIRONMENT", ("development", "production"), "development")
    data_dir = Path(reader.text("TASKAPP_DATA_DIR", str(defaults.data_dir))).expanduser()
    database_url = reader.optional("DATABASE_URL")
    settings = Settings(
        database_url=database_url,
        database_direct_url=reader.optional("DATABASE_DIRECT_URL"),
        db_pooler=_pooler(
            reader.choice("DB_POOLER", ("auto", "none", "transaction"), "auto"), database_url
        ),
        host=reader.text("HOST", defaults.host),
        port=reader.integer("PORT", defaults.port, low=1, high=65535),
        workers=reader.integer("WEB_CONCURRENCY", defaults.workers, low=1, high=256),
        log_level=reader.choice(
            "LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), "INFO", upper=True
        ),
        access_log=reader.boolean("ACCESS_LOG", defaults.access_log),
        environment="production" if environment == "production" else "development",
        # Production: exactly CORS_ORIGINS (unset: no other origin may call the API).
        cors_origins=reader.csv(
            "CORS_ORIGINS", () if environment == "production" else DEVELOPMENT_CORS_ORIGINS
        ),
        data_dir=data_dir,
        jwt_secret=reader.text("JWT_SECRET", ""),
        jwt_issuer=reader.text("JWT_ISSUER", defaults.jwt_issuer),
        jwt_audience=reader.text("JWT_AUDIENCE", defaults.jwt_audience),
        access_token_ttl_seconds=reader.integer(
            "ACCESS_TOKEN_TTL_SECONDS", defaults.access_token_ttl_seconds, low=30, high=86400
        ),
        refresh_token_ttl_seconds=reader.integer(
            "REFRESH_TOKEN_TTL_SECONDS", defaults.refresh_token_ttl_seconds, low=60
        ),
        db_pool_size=reader.integer("DB_POOL_SIZE", defaults.db_pool_size, low=1, high=1000),
        db_pool_timeout_seconds=reader.number(
            "DB_POOL_TIMEOUT_SECONDS", defaults.db_pool_timeout_seconds
        ),
        db_connect_timeout_seconds=reader.number(
            "DB_CONNECT_TIMEOUT_SECONDS", defaults.db_connect_timeout_seconds
        ),
        db_statement_timeout_seconds=reader.number(
            "DB_STATEMENT_TIMEOUT_SECONDS", defaults.db_statement_timeout_seconds
        ),
        db_statement_cache=reader.boolean("DB_STATEMENT_CACHE", defaults.db_statement_cache),
        migrate_on_start=reader.boolean("MIGRATE_ON_START", defaults.migrate_on_start),
        max_request_body_bytes=reader.integer(
            "MAX_REQUEST_BODY_BYTES", defaults.max_request_body_bytes, low=1024
        ),
        max_request_header_bytes=reader.integer(
            "MAX_REQUEST_HEADER_BYTES",
            defaults.max_request_header_bytes,
            low=_MIN_HEADER_BYTES,
            high=_MAX_HEADER_BYTES,
        ),
        header_read_timeout_seconds=reader.number(
            "HEADER_READ_TIMEOUT_SECONDS", defaults.header_read_timeout_seconds, high=60
        ),
        max_concurrent_requests=reader.integer(
            "MAX_CONCURRENT_REQUESTS", defaults.max_concurrent_requests, low=8, high=1_000_000
        ),
        body_read_timeout_seconds=reader.number(
            "BODY_READ_TIMEOUT_SECONDS", defaults.body_read_timeout_seconds
        ),
        forwarded_allow_ips=_trusted_proxies(reader.csv("FORWARDED_ALLOW_IPS", ())),
        password_hash_concurrency=reader.integer(
            "PASSWORD_HASH_CONCURRENCY", defaults.password_hash_concurrency, low=1, high=256
        ),
        rate_limit_enabled=reader.boolean("RATE_LIMIT_ENABLED", defaults.rate_limit_enabled),
        rate_limit_window_seconds=reader.integer(
            "RATE_LIMIT_WINDOW_SECONDS", defaults.rate_limit_window_seconds, low=1
        ),
        rate_limit_per_address=reader.integer(
            "RATE_LIMIT_PER_ADDRESS", defaults.rate_limit_per_address, low=1
        ),
        rate_limit_per_email=reader.integer(
            "RATE_LIMIT_PER_EMAIL", defaults.rate_limit_per_email, low=1
        ),
        redis_url=reader.optional("REDIS_URL"),
        events_heartbeat_seconds=reader.number(
            "EVENTS_HEARTBEAT_SECONDS", defaults.events_heartbeat_seconds, high=300
        ),
        webhook_delivery=reader.boolean("WEBHOOK_DELIVERY", defaults.webhook_delivery),
        webhook_allow_private_targets=reader.boolean(
            "WEBHOOK_ALLOW_PRIVATE_TARGETS", defaults.webhook_allow_private_targets
        ),
        webhook_timeout_seconds=reader.number(
            "WEBHOOK_TIMEOUT_SECONDS", defaults.webhook_timeout_seconds, high=60
        ),
        webhook_retry_base_seconds=reader.number(
            "WEBHOOK_RETRY_BASE_SECONDS", defaults.webhook_retry_base_seconds
        ),
        webhook_retry_window_seconds=reader.integer(
            "WEBHOOK_RETRY_WINDOW_SECONDS", defaults.webhook_retry_window_seconds, low=1
        ),
        webhook_poll_seconds=reader.number(
            "WEBHOOK_POLL_SECONDS", defaults.webhook_poll_seconds, high=60
        ),
        webhook_delivery_retention_days=reader.integer(
            "WEBHOOK_DELIVERY_RETENTION_DAYS", defaults.webhook_delivery_retention_days, low=1
        ),
    )
    for name, url in (
        ("DATABASE_URL", settings.database_url),
        ("DATABASE_DIRECT_URL", settings.database_direct_url),
    ):
        if url is not None and not url.startswith(_DATABASE_URL_SCHEMES):
            raise ConfigError(
                f"{name} must start with postgresql://, postgres:// or postgresql+asyncpg://"
            )
    if settings.database_direct_url is not None and settings.database_url is None:
        raise ConfigError("DATABASE_DIRECT_URL needs DATABASE_URL (the pooled connection)")
    return replace(settings, jwt_secret=_resolve_jwt_secret(settings))


def _pooler(choice: str, database_url: str | None) -> Pooler:
    """`auto`: a transaction pooler when the URL is a Neon pooled endpoint (its host name has
    `-pooler.`), none otherwise. PgBouncer cannot be recognised from its URL: say so."""
    if choice == "auto":
        host = urlsplit(database_url or "").hostname or ""
        return "transaction" if _NEON_POOLER_MARK in host else "none"
    return "transaction" if choice == "transaction" else "none"


def _trusted_proxies(entries: tuple[str, ...]) -> tuple[str, ...]:
    """`*`, or IP addresses and networks (CIDR), each checked here so a typo stops start-up."""
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                f"FORWARDED_ALLOW_IPS must list IP addresses, networks (CIDR) or * (got {entry!r})"
            ) from None
    return entries


def _resolve_jwt_secret(settings: Settings) -> str:
    """Production must be given a strong key; development makes one and keeps it."""
    if settings.jwt_secret:
        if len(settings.jwt_secret.encode()) < _MIN_JWT_SECRET_BYTES:
            raise ConfigError(f"JWT_SECRET must be at least {_MIN_JWT_SECRET_BYTES} bytes long")
        return settings.jwt_secret
    if settings.is_production:
        raise ConfigError("JWT_SECRET is required when ENVIRONMENT=production")
    key_file = settings.data_dir / "jwt_secret"
    try:
        if key_file.is_file():
            return key_file.read_text().strip()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        key_file.write_text(secret)
        key_file.chmod(0o600)
    except OSError as error:
        raise ConfigError(f"TASKAPP_DATA_DIR is not writable ({error.strerror})") from error
    return secret


@dataclass(frozen=True, slots=True)
class _Reader:
    env: Mapping[str, str]

    def optional(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def _convert(self, name: str, default: _T, convert: Callable[[str], _T], expected: str) -> _T:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            return convert(raw)
        except ValueError:
            raise ConfigError(f"{name} must be {expected} (got {raw!r})") from None

    def integer(self, name: str, default: int, low: int = 0, high: int | None = None) -> int:
        value = self._convert(name, default, int, "an integer")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ConfigError(f"{name} must be {bound} (got {value})")
        return value

    def number(self, name: str, default: float, high: float = 3600) -> float:
        value = self._convert(name, default, float, "a number of seconds")
        if not 0 < value <= high:  # also refuses nan
            raise ConfigError(f"{name} must be between 0 and {high:g} seconds (got {value})")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        def convert(raw: str) -> bool:
            lowered = raw.lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)

        return self._convert(name, default, convert, "true or false")

    def choice(
        self, name: str, options: tuple[str, ...], default: str, *, upper: bool = False
    ) -> str:
        raw = self.text(name, default)
        value = raw.upper() if upper else raw.lower()
        if value not in options:
            raise ConfigError(f"{name} must be one of {', '.join(options)} (got {raw!r})")
        return value

    def csv(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self.optional(name)
        if raw is None:
            return default
        return tuple(item.strip() for item in raw.split(",") if item.strip())
