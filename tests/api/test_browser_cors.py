"""CORS proven in a real browser: a page on http://localhost:3000 calls the API with a token.

Headless Chromium (Debian package `chromium`) loads the page; the page's script does a
preflighted POST and a GET against a real server process and writes what it saw into the
DOM, which Chromium prints. `.ci/run` installs Chromium, so CI always runs this test.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import PASSWORD
from tests.api.helpers import unique_email
from tests.support.servers import running_servers

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
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
  } catch (error) {
    out.error = String(error);
  }
  document.getElementById("result").textContent = JSON.stringify(out);
  document.title = "done";
})();
</script></body></html>
"""


@pytest.fixture
def api_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    environment = {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "browser-test-secret-" + "z" * 40,
        "CORS_ORIGINS": f"http://localhost:{PAGE_ORIGIN_PORT}",
        "LOG_LEVEL": "WARNING",
    }
    with running_servers(1, tmp_path, environment) as urls:
        yield urls[0]


@pytest.fixture
def page_origin(tmp_path: Path) -> Iterator[Path]:
    """A static file server on http://localhost:3000 (the default CORS origin)."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", PAGE_ORIGIN_PORT), handler)
    except OSError as error:  # another program holds it: an environment conflict, not ours
        pytest.skip(f"port {PAGE_ORIGIN_PORT} is taken, cannot serve the page there: {error}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it",
)
def test_a_page_on_another_origin_calls_the_api_with_a_token(
    api_server: str, page_origin: Path
) -> None:
    email = unique_email()
    httpx.post(f"{api_server}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    login = httpx.post(
        f"{api_server}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    token = login.json()["data"]["access_token"]
    api_origin = api_server.replace("127.0.0.1", "localhost")
    (page_origin / "index.html").write_text(PAGE % {"api": api_origin, "token": token})

    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={page_origin.parent / 'chromium-profile'}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"http://localhost:{PAGE_ORIGIN_PORT}/index.html",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    match = re.search(r'<pre id="result">(.*?)</pre>', result.stdout, re.S)
    assert match is not None, result.stderr[-2000:]
    seen = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert seen.get("error") is None, seen
    assert seen["create_status"] == 201
    assert seen["etag"] == '"1"'  # readable only because the API exposes it
    assert seen["location"].startswith("/api/v1/tasks/")
    assert seen["request_id"]
    assert seen["list_status"] == 200
    assert seen["titles"] == ["from the browser"]
