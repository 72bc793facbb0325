"""CORS proven in a real browser: a page on http://localhost:3000 calls the API with a token,
reads the headers the API exposes (ETag, Location, an export's Content-Disposition), and a
page on an origin the API does not allow is refused by the browser.

Headless Chromium (Debian package `chromium`) loads the page; the page's script calls a real
server process and writes what it saw into the DOM, which Chromium prints. `.ci/run`
installs Chromium, so CI always runs this test.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import PASSWORD
from tests.api.helpers import unique_email
from tests.support.browser import chromium_command, needs_chromium, static_site
from tests.support.servers import free_port, running_servers

PAGE_ORIGIN_PORT = 3000

PAGE = """<!doctype html>
<html><head><title>pending</title></head><body><pre id="result">pending</pre>
<script>
(async () => {
  const api = "%(api)s", token = "%(token)s";
  const out = {};
  try {
    const created = await fetch(api + "/api/v1/tasks", {
      method: "POST",
      headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json",
                "Idempotency-Key": "browser-1"},
      body: JSON.stringify({title: "from the browser"}),
    });
    out.create_status = created.status;
    out.etag = created.headers.get("ETag");
    out.location = created.headers.get("Location");
    out.request_id = created.headers.get("X-Request-ID");
    const auth = {"Authorization": "Bearer " + token};
    const listed = await fetch(api + "/api/v1/tasks", {headers: auth});
    const body = await listed.json();
    out.list_status = listed.status;
    out.titles = body.data.items.map(t => t.title);
    const exported = await fetch(api + "/api/v1/tasks/export?format=csv", {headers: auth});
    out.export_status = exported.status;
    out.disposition = exported.headers.get("Content-Disposition");
    out.csv = await exported.text();
  } catch (error) {
    out.error = String(error);
  }
  document.getElementById("result").textContent = JSON.stringify(out);
  document.title = "done";
})();
</script></body></html>
"""


REFUSED_PAGE = """<!doctype html>
<html><head><title>pending</title></head><body><pre id="result">pending</pre>
<script>
(async () => {
  const out = {};
  try {
    const answer = await fetch("%(api)s/api/v1/tasks", {
      headers: {"Authorization": "Bearer %(token)s"},
    });
    out.status = answer.status;
  } catch (error) {
    out.error = error.name + ": " + error.message;
  }
  document.getElementById("result").textContent = JSON.stringify(out);
  document.title = "done";
})();
</script></body></html>
"""


@pytest.fixture
def server_log(tmp_path: Path) -> Path:
    return tmp_path / "server.log"


@pytest.fixture
def api_server(database_url: str, tmp_path: Path, server_log: Path) -> Iterator[str]:
    environment = {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "browser-test-secret-" + "z" * 40,
        "CORS_ORIGINS": f"http://localhost:{PAGE_ORIGIN_PORT}",
        "LOG_LEVEL": "WARNING",
    }
    with running_servers(1, tmp_path, environment, log=server_log) as urls:
        yield urls[0]


@pytest.fixture
def page_origin(tmp_path: Path) -> Iterator[Path]:
    """A static file server on http://localhost:3000 (the allowed CORS origin)."""
    with static_site(tmp_path / "site", PAGE_ORIGIN_PORT) as root:
        yield root


@pytest.fixture
def refused_origin(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A static file server on another port: an origin the API does not allow."""
    port = free_port()
    with static_site(tmp_path / "elsewhere", port) as root:
        yield root, port


def sign_in(api_server: str) -> str:
    email = unique_email()
    httpx.post(f"{api_server}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    login = httpx.post(
        f"{api_server}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    token: str = login.json()["data"]["access_token"]
    return token


def browse(url: str, profile: Path) -> dict[str, Any]:
    """What the page at `url` wrote into its `<pre id="result">`, as JSON."""
    result = subprocess.run(
        chromium_command(profile, "--virtual-time-budget=15000", "--dump-dom", url),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    match = re.search(r'<pre id="result">(.*?)</pre>', result.stdout, re.S)
    assert match is not None, result.stderr[-2000:]
    seen: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return seen


@needs_chromium
def test_a_page_on_another_origin_calls_the_api_with_a_token(
    api_server: str, page_origin: Path
) -> None:
    token = sign_in(api_server)
    api_origin = api_server.replace("127.0.0.1", "localhost")
    (page_origin / "index.html").write_text(PAGE % {"api": api_origin, "token": token})

    seen = browse(f"http://localhost:{PAGE_ORIGIN_PORT}/index.html", page_origin.parent / "profile")
    assert seen.get("error") is None, seen
    assert seen["create_status"] == 201
    assert seen["etag"] == '"1"'  # readable only because the API exposes it
    assert seen["location"].startswith("/api/v1/tasks/")
    assert seen["request_id"]
    assert seen["list_status"] == 200
    assert seen["titles"] == ["from the browser"]
    # An export read through CORS: the file name is there for the page to save it under.
    assert seen["export_status"] == 200
    assert re.fullmatch(r'attachment; filename="tasks-[^"]+\.csv"', seen["disposition"]), seen
    assert "from the browser" in seen["csv"]


@needs_chromium
def test_a_page_on_an_origin_not_allowed_is_refused_by_the_browser(
    api_server: str, refused_origin: tuple[Path, int], server_log: Path
) -> None:
    root, port = refused_origin
    token = sign_in(api_server)
    api_origin = api_server.replace("127.0.0.1", "localhost")
    (root / "index.html").write_text(REFUSED_PAGE % {"api": api_origin, "token": token})

    seen = browse(f"http://localhost:{port}/index.html", root.parent / "profile-refused")
    # The preflight (Authorization is not a simple header) is answered without
    # Access-Control-Allow-Origin, so the browser never sends the request: fetch rejects.
    assert seen.get("status") is None, seen
    assert seen["error"].startswith("TypeError"), seen
    # ... and the server says which origin it refused, so the fix is one grep away (0019).
    assert f"http://localhost:{port}" in server_log.read_text()
