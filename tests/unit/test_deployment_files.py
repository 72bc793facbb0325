"""The image and the stacks, checked without a Docker engine: the lock files, the
Dockerfile, docker-compose.yml (structurally always; with `docker compose config` where
the CLI is installed: Debian's `docker-compose`, which .ci/run installs), Vercel's files."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) for every pinned requirement of a hashed lock file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        pin = _PIN.match(line)
        if pin:
            current = canonicalize_name(pin.group(1))
            entries[current] = (pin.group(2), [])
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current][1].append(line.strip().split(":", 1)[1].rstrip(" \\"))
        elif line.strip() and not line.startswith((" ", "#")):
            raise AssertionError(f"{path.name}: not a pinned, hashed requirement: {line!r}")
    return entries


def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("name", ["requirements.lock", "requirements-dev.lock"])
def test_every_pinned_package_has_a_hash(name: str) -> None:
    entries = locked(ROOT / name)
    assert len(entries) > 20
    for package, (version, hashes) in entries.items():
        assert hashes, f"{name}: {package}=={version} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in hashes), package


def _satisfied(requirements: list[str], lock: Path) -> None:
    entries = locked(lock)
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name == "taskapp":  # the project's own extras (dev includes embedded)
            continue
        assert name in entries, f"{lock.name} lacks {requirement.name}"
        version = entries[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock.name}: {name}=={version} does not satisfy {text}: run `make lock`"
        )


def test_the_image_lock_pins_every_dependency_and_not_the_embedded_database() -> None:
    _satisfied(project()["dependencies"], ROOT / "requirements.lock")
    assert "pgserver" not in locked(ROOT / "requirements.lock")
    assert "pgserver" not in project()["dependencies"]


def test_the_development_lock_pins_the_dev_and_embedded_extras_too() -> None:
    extras = project()["optional-dependencies"]
    assert extras["embedded"] == ["pgserver>=0.1.4"]
    lock = ROOT / "requirements-dev.lock"
    _satisfied(project()["dependencies"] + extras["dev"] + extras["embedded"], lock)


def _run_lines(dockerfile: str) -> list[str]:
    joined = dockerfile.replace("\\\n", " ")
    return [line.strip()[4:] for line in joined.splitlines() if line.strip().startswith("RUN ")]


def test_the_dockerfile_installs_exactly_the_lock_and_no_embedded_database() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    runs = _run_lines(dockerfile)
    installs = [run for run in runs if "pip install" in run]
    assert any(
        "--require-hashes" in run and "-r requirements.lock" in run and "--no-deps" in run
        for run in installs
    ), installs
    # taskapp itself: without resolving anything (everything came from the lock).
    assert any(re.search(r"pip install --no-deps \.(\s|$)", run) for run in installs), installs
    assert dockerfile.index("COPY requirements.lock") < dockerfile.index("-r requirements.lock")
    for run in installs:
        assert "pgserver" not in run
        assert "[" not in run, f"no extras in the image: {run}"
        assert "requirements-dev.lock" not in run


def test_the_dockerfile_is_multi_stage_non_root_and_checks_health_on_port() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("\nFROM ") >= 2
    assert "\nUSER taskapp" in dockerfile
    assert "USER root" not in dockerfile
    assert "taskapp.entrypoints.healthcheck" in dockerfile
    assert 'CMD ["taskapp", "serve"]' in dockerfile


def test_make_test_installs_from_the_development_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r requirements-dev.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    assert re.search(r"^\$\(STAMP\):.*requirements-dev\.lock", makefile, re.MULTILINE)


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_compose_migrates_once_then_serves_with_restart_policies() -> None:
    services = compose()["services"]
    migrate, app = services["migrate"], services["app"]
    assert migrate["command"] == ["taskapp", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["environment"]["MIGRATE_ON_START"] == "false"  # the app does not migrate again
    for name in ("postgres", "redis", "app"):
        assert services[name]["restart"] == "unless-stopped", name
        assert "healthcheck" in services[name], name
    assert app["healthcheck"]["test"] == ["CMD", "python", "-m", "taskapp.entrypoints.healthcheck"]
    assert app["environment"]["PORT"] == "${PORT:-8000}"
    assert app["ports"] == ["${PORT:-8000}:${PORT:-8000}"]


def test_compose_holds_no_secret() -> None:
    services = compose()["services"]
    app = services["app"]["environment"]
    assert app["JWT_SECRET"].startswith("${JWT_SECRET:?")
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:-"
    )
    assert "${POSTGRES_PASSWORD:-" in app["DATABASE_URL"]
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert tracked.stdout.strip() == ""


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip(
            "neither `docker compose` nor `docker-compose` is installed (Debian: apt-get "
            "install --no-install-recommends docker-compose; .ci/run installs it): "
            "docker-compose.yml was checked structurally only"
        )
    base = [*cli, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml")]
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    ok = subprocess.run(
        [*base, "config", "-q"],
        env={**environment, "JWT_SECRET": "x" * 48},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(
        [*base, "config", "-q"], env=environment, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "JWT_SECRET" in refused.stderr


def test_vercel_routes_every_path_to_the_serverless_entry() -> None:
    import json

    config = json.loads((ROOT / "vercel.json").read_text())
    assert config["rewrites"] == [{"source": "/(.*)", "destination": "/api/index"}]
    assert "api/index.py" in config["functions"]
    entry = (ROOT / "api" / "index.py").read_text()
    assert "from taskapp.entrypoints.serverless import app" in entry


def test_the_healthcheck_follows_port(tmp_path: Path) -> None:
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Ready(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health/ready" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    environment = {"PATH": "/usr/bin:/bin", "TASKAPP_DATA_DIR": str(tmp_path), "HOST": "0.0.0.0"}  # noqa: S104
    command = [sys.executable, "-m", "taskapp.entrypoints.healthcheck"]
    try:
        port = str(server.server_address[1])
        healthy = subprocess.run(
            command, env={**environment, "PORT": port}, cwd=tmp_path, check=False
        )
        assert healthy.returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    down = subprocess.run(
        command, env={**environment, "PORT": port}, cwd=tmp_path, capture_output=True, check=False
    )
    assert down.returncode == 1
    assert b"unhealthy" in down.stderr
