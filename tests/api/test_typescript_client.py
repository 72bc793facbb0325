"""The TypeScript client (clients/typescript/, written by `make client`): its committed
document and types are the current ones, it type-checks with its example, and it works
against a real server (register, login, create with Idempotency-Key, update with If-Match,
list, one shared refresh), and in headless Chromium: two tabs of one origin whose access
token went stale at once refresh ONCE between them (the Web Locks API and a shared
`localStorage` store; without the lock the second tab reuses the refresh token and the
session is revoked), and `liveEvents` streams through a real, cross-origin EventSource from
a write's cursor.

Needs Node.js 20+ and npm (and Chromium for the browser test); `npm ci` installs the pinned
packages from the committed lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskapp.config import Settings
from taskapp.entrypoints.cli import openapi_json
from tests.support.browser import chromium_command, needs_chromium, static_site
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


# --- In a browser: two tabs share one session; live events through EventSource ---------

PAGE_ORIGIN = "http://localhost:3000"  # one of the development CORS origins (decision 0019)
IMPORT_MAP = (
    '<script type="importmap">{"imports": {"openapi-fetch": "/vendor/openapi-fetch.mjs"}}</script>'
)

TAB = """<!doctype html><html><head>%(import_map)s</head><body><script type="module">
import { createTaskapp, webStorageTokenStore } from "/client/src/index.js";
const name = location.hash.slice(1);
let refreshes = 0, unauthorized = 0;
const counting = async (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  if (url.endsWith("/api/v1/auth/refresh")) refreshes += 1;
  const answer = await fetch(input, init);
  if (answer.status === 401) unauthorized += 1;
  return answer;
};
const taskapp = createTaskapp({
  baseUrl: "%(api)s",
  fetch: counting,
  tokens: webStorageTokenStore(localStorage),
  exclusive: (refresh) => navigator.locks.request("taskapp-refresh", refresh),
});
addEventListener("message", async (event) => {
  if (event.data !== "go") return;
  const answer = await taskapp.api.GET("/api/v1/tasks");
  parent.postMessage({ name, status: answer.response.status, refreshes, unauthorized }, "*");
});
parent.postMessage({ ready: name }, "*");
</script></body></html>
"""

PAGE = """<!doctype html><html><head>%(import_map)s</head><body><script type="module">
import { createTaskapp, liveEvents, webStorageTokenStore } from "/client/src/index.js";
const api = "%(api)s";
const out = {};
try {
  // Two tabs (two browsing contexts of one origin) meet a 401 at once: their access token
  // is stale. One refreshes; the other, waiting on the lock, takes the tokens it finds.
  localStorage.setItem("taskapp.tokens", JSON.stringify(%(tokens)s));
  const tabs = await new Promise((resolve) => {
    const frames = [], seen = {};
    let ready = 0;
    addEventListener("message", (event) => {
      if (event.data.ready !== undefined) {
        ready += 1;
        if (ready === 2) for (const frame of frames) frame.contentWindow.postMessage("go", "*");
        return;
      }
      seen[event.data.name] = event.data;
      if (Object.keys(seen).length === 2) resolve(seen);
    });
    for (const name of ["a", "b"]) {
      const frame = document.createElement("iframe");
      frame.src = "/tab.html#" + name;
      frames.push(frame);
      document.body.append(frame);
    }
  });
  out.tabs = tabs;
  out.tokens = JSON.parse(localStorage.getItem("taskapp.tokens"));

  // Live events, from the cursor of a write made before the stream opened.
  const taskapp = createTaskapp({ baseUrl: api, tokens: webStorageTokenStore(localStorage) });
  const create = (title) => taskapp.api.POST("/api/v1/tasks", { body: { title } });
  const first = await create("before the stream");
  const cursor = first.response.headers.get("X-Sync-Cursor");
  await create("while it opens");
  out.events = await new Promise((resolve, reject) => {
    const events = [];
    let opened = false;
    const live = liveEvents(taskapp, api, (type, data, id) => {
      events.push({ type, title: data.title, id });
      if (events.length === 2) { live.close(); resolve(events); }
    }, {
      cursor,
      onOpen: () => { if (!opened) { opened = true; void create("after it opened"); } },
    });
    setTimeout(() => reject(new Error("events: only " + JSON.stringify(events))), 20000);
  });
} catch (error) {
  out.error = String(error && error.stack || error);
}
await fetch("/result", { method: "POST", body: JSON.stringify(out) });
</script></body></html>
"""


class _ResultSite(SimpleHTTPRequestHandler):
    """Serves the page's files; `POST /result` takes what the page saw."""

    results: queue.Queue[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        self.results.put(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def _open_in_chromium(url: str, profile: Path, results: queue.Queue[dict[str, Any]]) -> Any:
    """Load `url` in headless Chromium and wait for the page to post its result."""
    log = profile.parent / "chromium.log"
    with log.open("wb") as output:  # a file, not a pipe: nothing must block the browser
        browser = subprocess.Popen(
            chromium_command(profile, url),
            stdout=subprocess.DEVNULL,
            stderr=output,
            start_new_session=True,  # its own group: its helper processes end with it
        )
        try:
            return results.get(timeout=60)
        except queue.Empty:
            errors = log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"the page posted no result: {errors}") from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(browser.pid, signal.SIGKILL)
            browser.wait(timeout=10)


@needs_chromium
def test_the_client_in_a_browser_shares_one_refresh_between_tabs_and_streams_events(
    compiled: Path, api_server: str, tmp_path: Path
) -> None:
    email = f"browser-{uuid.uuid4().hex[:10]}@example.com"
    credentials = {"email": email, "password": "correct horse battery staple"}
    assert httpx.post(f"{api_server}/api/v1/auth/register", json=credentials).status_code == 201
    pair = httpx.post(f"{api_server}/api/v1/auth/login", json=credentials).json()["data"]
    stale = {**pair, "access_token": "stale-" + pair["access_token"][6:]}

    site = tmp_path / "site"
    (site / "client").mkdir(parents=True)
    shutil.copytree(compiled / "src", site / "client" / "src")
    (site / "vendor").mkdir()
    shutil.copy(
        compiled / "node_modules" / "openapi-fetch" / "dist" / "index.mjs",
        site / "vendor" / "openapi-fetch.mjs",
    )
    api = api_server.replace("127.0.0.1", "localhost")  # another origin than the page's
    fill = {"import_map": IMPORT_MAP, "api": api, "tokens": json.dumps(stale)}
    (site / "tab.html").write_text(TAB % fill)
    (site / "index.html").write_text(PAGE % fill)

    results: queue.Queue[dict[str, Any]] = queue.Queue()
    handler = type("Site", (_ResultSite,), {"results": results})
    with static_site(site, int(PAGE_ORIGIN.rsplit(":", 1)[1]), handler):
        seen = _open_in_chromium(f"{PAGE_ORIGIN}/index.html", tmp_path / "profile", results)

    # Both tabs met the stale token at once (same-origin frames share one event loop: both
    # "go" messages run before any answer) and got their answer, with ONE refresh ...
    assert [tab["unauthorized"] for tab in seen["tabs"].values()] == [1, 1], seen
    assert {tab["status"] for tab in seen["tabs"].values()} == {200}, seen
    assert sum(tab["refreshes"] for tab in seen["tabs"].values()) == 1, seen
    assert seen.get("error") is None, seen
    # ... so the session lives on: its refresh token was used once, not reused.
    renewed = httpx.post(
        f"{api_server}/api/v1/auth/refresh",
        json={"refresh_token": seen["tokens"]["refresh_token"]},
    )
    assert renewed.status_code == 200, renewed.text
    # The stream started after the first write's cursor: the write made while it opened
    # and the one after it opened arrived, in order, each with its cursor as the event id.
    assert [(event["type"], event["title"]) for event in seen["events"]] == [
        ("task.created", "while it opens"),
        ("task.created", "after it opened"),
    ]
    assert all(len(event["id"]) == 20 for event in seen["events"])
