"""Packaging facts other services and operators rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_domain_imports_with_no_third_party_package() -> None:
    # -S: no site-packages at all, so only the standard library is importable.
    script = (
        "import sys, pkgutil, importlib; sys.path.insert(0, sys.argv[1]);"
        "import taskapp.domain as d;"
        "[importlib.import_module(m.name) for m in "
        "pkgutil.walk_packages(d.__path__, 'taskapp.domain.')]"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(ROOT / "src")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_runs_postgres_redis_and_the_app() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:17")
    assert "healthcheck" in services["postgres"]
    assert any("/var/lib/postgresql/data" in v for v in services["postgres"]["volumes"])
    assert services["redis"]["image"].startswith("redis")
    app = services["app"]
    assert app["build"]["dockerfile"] == "Dockerfile"
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert app["environment"]["ENVIRONMENT"] == "production"


def test_dockerfile_is_multi_stage_non_root_and_serves() -> None:
    # `taskapp serve` migrates before serving unless MIGRATE_ON_START=false (compose runs a
    # one-shot migrate service instead): tests/unit/test_deployment_files.py.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2
    assert "\nUSER " in dockerfile
    assert "USER root" not in dockerfile
    assert "taskapp serve" in dockerfile or '"taskapp", "serve"' in dockerfile


def test_env_example_lists_every_setting() -> None:
    config_source = (ROOT / "src/taskapp/config.py").read_text()
    example = (ROOT / ".env.example").read_text()
    import re

    names = set(re.findall(r'reader\.\w+\(\s*"([A-Z_]+)"', config_source))
    assert names, "no settings found"
    missing = {name for name in names if f"{name}=" not in example}
    assert not missing, f".env.example lacks {sorted(missing)}"
