"""The docs page (`/schema`, Swagger UI from assets the server ships) as a person sees it:
headless Chromium renders it from a real server with no network beyond 127.0.0.1, every
resource's section is there, the operations carry their ids, and the screenshot is a page,
not a blank one (a failed script or a missing asset leaves it white)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browser import chromium_command, needs_chromium
from tests.support.servers import running_servers

TAGS = ("auth", "tasks", "lists", "sync", "webhooks")
A_BLANK_PAGE = 40_000  # bytes: a white 1280 by 2400 PNG is a few KB; the rendered page, hundreds


@pytest.fixture
def api_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    environment = {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "docs-page-secret-" + "d" * 40,
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_DELIVERY": "false",
    }
    with running_servers(1, tmp_path, environment) as urls:
        yield urls[0]


def render(url: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        chromium_command(
            profile,
            "--window-size=1280,2400",
            "--virtual-time-budget=20000",
            # Offline for real: no host but 127.0.0.1 (where the page is) resolves, so an
            # asset fetched from a CDN would fail and the page would show it.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            *arguments,
            url,
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_chromium
def test_the_docs_page_renders_every_section_offline(api_server: str, tmp_path: Path) -> None:
    document = httpx.get(f"{api_server}/schema/openapi.json").json()
    dom = render(f"{api_server}/schema", tmp_path / "profile", "--dump-dom").stdout
    sections = set(re.findall(r'id="operations-tag-([\w-]+)"', dom))
    assert set(TAGS) <= sections, sections
    # Every operation is on the page, each named by its operation id.
    shown = {html.unescape(name) for name in re.findall(r'id="operations-[\w-]+-(\w+)"', dom)}
    ids = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert ids <= shown, sorted(ids - shown)
    assert ">Complete task<" in dom  # summaries in words beside each path

    picture = tmp_path / "schema.png"
    render(f"{api_server}/schema", tmp_path / "profile-shot", f"--screenshot={picture}")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > A_BLANK_PAGE, picture.stat().st_size
    shutil.copy(picture, tmp_path.parent / "schema.png")  # kept with pytest's temp files
