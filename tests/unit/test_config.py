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
    assert settings.cors_origins == ("http://localhost:3000",)
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
    told = settings_from(tmp_path, FORWARDED_ALLOW_IPS="10.0.0.0/8, 192.0.2.7,::1,*")
    assert told.forwarded_allow_ips == ("10.0.0.0/8", "192.0.2.7", "::1", "*")
