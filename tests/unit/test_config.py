"""Settings: defaults, parsing, and one clear line for each bad setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from taskapp.config import ConfigError, load_settings


def settings_from(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return load_settings({"TASKAPP_DATA_DIR": str(tmp_path), **env}, env_file=None)


def test_defaults(tmp_path: Path) -> None:
    settings = settings_from(tmp_path)
    assert settings.database_url is None
    assert settings.port == 8000
    assert "http://localhost:5173" in settings.cors_origins
    assert "http://127.0.0.1:3000" in settings.cors_origins
    assert settings.db_statement_timeout_seconds == 15
    assert settings.max_request_body_bytes == 64 * 1024
    assert settings.environment == "development"


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = settings_from(tmp_path).jwt_secret
    second = settings_from(tmp_path).jwt_secret
    assert len(first.encode()) >= 32
    assert first == second
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0


def test_production_requires_a_strong_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET is required"):
        settings_from(tmp_path, ENVIRONMENT="production")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        settings_from(tmp_path, ENVIRONMENT="production", JWT_SECRET="short")
    strong = "k" * 32
    assert settings_from(tmp_path, ENVIRONMENT="production", JWT_SECRET=strong).jwt_secret == strong


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORT", "eighty", "PORT must be an integer"),
        ("PORT", "70000", "PORT must be between 1 and 65535"),
        ("ACCESS_LOG", "maybe", "ACCESS_LOG must be true or false"),
        ("ENVIRONMENT", "staging", "ENVIRONMENT must be one of"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of"),
        ("DB_STATEMENT_TIMEOUT_SECONDS", "-1", "DB_STATEMENT_TIMEOUT_SECONDS must be between"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL must start with"),
        ("MAX_REQUEST_BODY_BYTES", "12", "MAX_REQUEST_BODY_BYTES must be at least"),
        ("MAX_REQUEST_HEADER_BYTES", "4096", "MAX_REQUEST_HEADER_BYTES must be between"),
        ("HEADER_READ_TIMEOUT_SECONDS", "90", "HEADER_READ_TIMEOUT_SECONDS must be between"),
        ("BODY_READ_TIMEOUT_SECONDS", "nan", "BODY_READ_TIMEOUT_SECONDS must be between"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.0/8,lb.local", "FORWARDED_ALLOW_IPS must list"),
        ("MAX_CONCURRENT_REQUESTS", "4", "MAX_CONCURRENT_REQUESTS must be between"),
    ],
)
def test_bad_settings_name_the_setting(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from(tmp_path, **{name: value})


def test_env_file_fills_gaps_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=9001\nHOST=0.0.0.0\n")
    settings = load_settings({"TASKAPP_DATA_DIR": str(tmp_path), "PORT": "9002"}, env_file)
    assert settings.port == 9002
    assert settings.host == "0.0.0.0"  # noqa: S104


def test_cli_reports_a_bad_setting_in_one_line_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "taskapp.entrypoints.cli", "openapi"],
        env={"PORT": "nope", "TASKAPP_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "taskapp: configuration error: PORT must be an integer (got 'nope')"
    )


def test_edge_limits_and_proxy_trust(tmp_path: Path) -> None:
    defaults = settings_from(tmp_path)
    assert defaults.max_request_header_bytes == 16 * 1024
    assert (defaults.header_read_timeout_seconds, defaults.body_read_timeout_seconds) == (10, 30)
    assert defaults.forwarded_allow_ips == ()  # trust no proxy unless told
    assert defaults.max_concurrent_requests == 4096
    assert settings_from(tmp_path, MAX_CONCURRENT_REQUESTS="20000").max_concurrent_requests == 20000
    told = settings_from(tmp_path, FORWARDED_ALLOW_IPS="10.0.0.0/8, 192.0.2.7,::1,*")
    assert told.forwarded_allow_ips == ("10.0.0.0/8", "192.0.2.7", "::1", "*")


NEON_POOLED = "postgresql://alex:pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/db"
NEON_DIRECT = "postgresql://alex:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/db"


def test_a_neon_pooled_host_means_a_transaction_pooler(tmp_path: Path) -> None:
    pooled = settings_from(tmp_path, DATABASE_URL=NEON_POOLED, DATABASE_DIRECT_URL=NEON_DIRECT)
    assert pooled.behind_transaction_pooler
    assert pooled.session_database_url == NEON_DIRECT
    direct = settings_from(tmp_path, DATABASE_URL=NEON_DIRECT)
    assert not direct.behind_transaction_pooler
    assert direct.session_database_url == NEON_DIRECT
    # No direct URL behind a pooler: nothing may hold a session.
    assert settings_from(tmp_path, DATABASE_URL=NEON_POOLED).session_database_url is None


def test_db_pooler_is_said_explicitly_for_pgbouncer(tmp_path: Path) -> None:
    url = "postgresql://app@pgbouncer:6432/taskapp"
    assert not settings_from(tmp_path, DATABASE_URL=url).behind_transaction_pooler
    said = settings_from(tmp_path, DATABASE_URL=url, DB_POOLER="transaction")
    assert said.behind_transaction_pooler
    assert not settings_from(
        tmp_path, DATABASE_URL=NEON_POOLED, DB_POOLER="none"
    ).behind_transaction_pooler
    with pytest.raises(ConfigError, match="DB_POOLER must be one of auto, none, transaction"):
        settings_from(tmp_path, DB_POOLER="session")


def test_direct_url_is_checked_and_needs_a_database_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DATABASE_DIRECT_URL must start with"):
        settings_from(tmp_path, DATABASE_URL=NEON_POOLED, DATABASE_DIRECT_URL="mysql://x/y")
    with pytest.raises(ConfigError, match="DATABASE_DIRECT_URL needs DATABASE_URL"):
        settings_from(tmp_path, DATABASE_DIRECT_URL=NEON_DIRECT)
    assert settings_from(tmp_path).migrate_on_start is True
    assert settings_from(tmp_path, MIGRATE_ON_START="false").migrate_on_start is False


def _cli(tmp_path: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": "/usr/bin:/bin", "TASKAPP_DATA_DIR": str(tmp_path), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_without_database_url_and_without_pgserver_the_cli_says_what_to_do(
    tmp_path: Path,
) -> None:
    # pgserver made unimportable, as in the production image (no `embedded` extra).
    script = (
        "import sys, importlib.util; real = importlib.util.find_spec;"
        "importlib.util.find_spec = lambda n, *a: None if n == 'pgserver' else real(n, *a);"
        "from taskapp.entrypoints.cli import main; sys.exit(main(['serve']))"
    )
    result = _cli(tmp_path, script)
    assert result.returncode == 2
    assert "DATABASE_URL is not set and the embedded PostgreSQL is not installed" in result.stderr
    assert "taskapp[embedded]" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrations_refuse_a_transaction_pooler_without_a_direct_url(tmp_path: Path) -> None:
    script = (
        "import sys; from taskapp.entrypoints.cli import main; sys.exit(main(['db', 'upgrade']))"
    )
    result = _cli(tmp_path, script, DATABASE_URL=NEON_POOLED)
    assert result.returncode == 2
    assert "set DATABASE_DIRECT_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_neon_connection_string_is_taken_as_copied() -> None:
    from taskapp.adapters.postgres.database import driver_dsn

    copied = NEON_POOLED + "?sslmode=require&channel_binding=require"
    # channel_binding is libpq's: asyncpg would send it to the server as a setting.
    assert driver_dsn(copied) == NEON_POOLED + "?sslmode=require"
    socket = "postgresql://postgres:@/postgres?host=/tmp/x/data"
    assert driver_dsn(socket) == socket


def test_production_allows_only_the_listed_origins(tmp_path: Path) -> None:
    secret = "s" * 40
    strict = settings_from(tmp_path, ENVIRONMENT="production", JWT_SECRET=secret)
    assert strict.cors_origins == ()
    listed = settings_from(
        tmp_path, ENVIRONMENT="production", JWT_SECRET=secret, CORS_ORIGINS="https://app.example"
    )
    assert listed.cors_origins == ("https://app.example",)


def test_a_taken_port_is_found_before_anything_starts() -> None:
    import socket

    from taskapp.entrypoints.cli import _port_problem

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        problem = _port_problem("127.0.0.1", port)
    assert problem is not None
    assert f"PORT={port + 1}" in problem
