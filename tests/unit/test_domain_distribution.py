"""`taskapp-domain` (packages/taskapp-domain): built from src/taskapp/domain, installed
alone in a clean virtualenv with no index to reach, it runs the README's example for other
services (examples/domain_service.py), and pulls in no third-party package."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "packages" / "taskapp-domain"

pytestmark = pytest.mark.slow


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        # Nothing from this environment leaks in: no index, no find-links, no site.
        env={"PATH": "/usr/bin:/bin", "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": "/dev/null"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The build backend (hatchling) comes from the development environment: no network.
    out = tmp_path_factory.mktemp("dist")
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        out,
        PACKAGE,
        cwd=out,
    )
    (built,) = out.glob("taskapp_domain-*.whl")
    return built


def test_the_wheel_holds_the_domain_and_nothing_else(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    code = [name for name in names if not name.startswith("taskapp_domain-")]
    assert "taskapp/domain/services/tasks.py" in code
    assert all(name.startswith("taskapp/domain/") for name in code), code
    assert not any("__pycache__" in name for name in names)
    metadata = zipfile.ZipFile(wheel).read(
        next(name for name in names if name.endswith("METADATA"))
    )
    assert b"Requires-Dist" not in metadata  # no dependency at all


def test_a_clean_environment_runs_the_example_with_the_wheel_alone(
    wheel: Path, tmp_path: Path
) -> None:
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    _run(python, "-m", "pip", "install", "--no-index", wheel, cwd=tmp_path)
    listed = _run(python, "-m", "pip", "list", "--format", "json", cwd=tmp_path)
    installed = {entry["name"] for entry in json.loads(listed.stdout)}
    assert installed - {"pip", "setuptools"} == {"taskapp-domain"}
    # Run from elsewhere, so only the installed wheel can provide `taskapp.domain`.
    example = _run(python, "-I", ROOT / "examples" / "domain_service.py", cwd=tmp_path)
    assert example.stdout.splitlines() == [
        "average rating: 3.5",
        "error code: REVIEW_NOT_FOUND",
        "task: Write the report completed: True",
        "refused: VALIDATION_ERROR",
    ]
    where = _run(python, "-I", "-c", "import taskapp.domain as d; print(d.__file__)", cwd=tmp_path)
    assert str(environment) in where.stdout
