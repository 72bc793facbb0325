"""The TypeScript client (clients/typescript/, written by `make client`): its committed
document and types are the current ones, it type-checks with its example, and it works
against a real server (register, login, create with Idempotency-Key, update with If-Match,
list, one shared refresh).

Needs Node.js 20+ and npm; `npm ci` installs the pinned packages from the committed lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskapp.config import Settings
from taskapp.entrypoints.cli import openapi_json
from tests.support.servers import running_servers

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
NODE = shutil.which("node")
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="Node.js and npm are not installed (Debian: apt-get install nodejs npm); "
    ".ci/run installs them",
)


def run(command: list[str], cwd: Path, timeout: float = 300) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """`npm ci` once per lock file (a stamp in node_modules records which one)."""
    lock = (CLIENT / "package-lock.json").read_bytes()
    stamp = CLIENT / "node_modules" / ".taskapp-lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        assert NPM is not None
        run([NPM, "ci", "--no-audit", "--no-fund"], CLIENT)
        stamp.write_text(digest)
    return CLIENT / "node_modules"


def test_the_committed_document_is_the_current_one() -> None:
    current = openapi_json(Settings(jwt_secret="only-for-the-document-" + "x" * 20))
    committed = (CLIENT / "openapi.json").read_text()
    assert committed == current, "the API changed: run `make client` and commit the result"


def test_the_committed_types_are_generated_from_the_committed_document(
    node_modules: Path, tmp_path: Path
) -> None:
    """Regenerate with the package's own `generate` script into a copy, then compare."""
    copy = tmp_path / "client"
    (copy / "src").mkdir(parents=True)
    for name in ("package.json", "openapi.json"):
        shutil.copy(CLIENT / name, copy / name)
    (copy / "node_modules").symlink_to(node_modules)
    assert NPM is not None
    run([NPM, "run", "--silent", "generate"], copy)
    generated = (copy / "src" / "schema.d.ts").read_text()
    assert generated == (CLIENT / "src" / "schema.d.ts").read_text(), (
        "src/schema.d.ts is not what openapi-typescript makes of openapi.json: run `make client`"
    )


def test_the_client_and_its_example_type_check(node_modules: Path) -> None:
    run([str(node_modules / ".bin" / "tsc"), "--noEmit", "-p", str(CLIENT)], CLIENT)


@pytest.fixture
def compiled(node_modules: Path, tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    run([str(node_modules / ".bin" / "tsc"), "-p", str(CLIENT), "--outDir", str(out)], CLIENT)
    # Compiled ES modules import `openapi-fetch` from the package's node_modules.
    (out / "package.json").write_text(json.dumps({"type": "module"}))
    (out / "node_modules").symlink_to(node_modules)
    return out


@pytest.fixture
def api_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    environment = {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "typescript-client-secret-" + "t" * 40,
        "LOG_LEVEL": "WARNING",
    }
    with running_servers(1, tmp_path, environment) as urls:
        yield urls[0]


def test_the_generated_client_works_against_a_real_server(compiled: Path, api_server: str) -> None:
    assert NODE is not None
    output = run([NODE, str(compiled / "test" / "smoke.js"), api_server], compiled, timeout=120)
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["ok"] is True
    assert summary["refreshes"] == 2  # one shared by two callers, one by two more

    example = run(
        [NODE, str(compiled / "example" / "quickstart.js"), api_server],
        compiled,
        timeout=120,
    )
    assert "one refresh for two callers: true" in example, example


def test_node_is_recent_enough() -> None:
    assert NODE is not None
    major = int(run([NODE, "--version"], Path(os.getcwd())).strip().lstrip("v").split(".")[0])
    assert major >= 20, "the client needs Node.js 20+ (fetch, Request, crypto.randomUUID)"
