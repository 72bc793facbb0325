"""The request edge through a real `taskapp serve` process (issue 13): header limits,
connection timeouts, client aborts, proxy headers and a trailing newline in the path."""

from __future__ import annotations

import contextlib
import random
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import PASSWORD
from tests.support.servers import running_servers

pytestmark = pytest.mark.slow

TIMEOUT = 1.0  # the servers' header and body timeouts, short so the tests are quick
SLACK = 4.0


def _environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(data_dir),
        "JWT_SECRET": "edge-secret-" + "z" * 40,
        "HEADER_READ_TIMEOUT_SECONDS": str(TIMEOUT),
        "BODY_READ_TIMEOUT_SECONDS": str(TIMEOUT),
        "RATE_LIMIT_PER_ADDRESS": "3",
        "RATE_LIMIT_PER_EMAIL": "1000",
        "RATE_LIMIT_WINDOW_SECONDS": "3600",
        "LOG_LEVEL": "INFO",
        "ACCESS_LOG": "true",
        **extra,
    }


@pytest.fixture(scope="module")
def server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """One server with default proxy trust; yields its URL and its log file."""
    data_dir = tmp_path_factory.mktemp("edge")
    log = data_dir / "server.log"
    with running_servers(1, data_dir, _environment(database_url, data_dir), log=log) as urls:
        yield urls[0], log


@pytest.fixture(scope="module")
def proxied(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server told that loopback is its load balancer."""
    data_dir = tmp_path_factory.mktemp("proxied")
    environment = _environment(database_url, data_dir, FORWARDED_ALLOW_IPS="127.0.0.1/32")
    with running_servers(1, data_dir, environment) as urls:
        yield urls[0]


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=SLACK + TIMEOUT)
    return connection


def _read_until_closed(connection: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and how long that took."""
    started = time.monotonic()
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the connection is still open after {SLACK + TIMEOUT} s: {received!r}")
    return received, time.monotonic() - started


def _login(url: str, email: str, headers: dict[str, str] | None = None) -> int:
    response = httpx.post(
        f"{url}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers=headers,
        timeout=10,
    )
    return response.status_code


def test_a_trailing_newline_in_a_task_id_is_422(server: tuple[str, Path]) -> None:
    url, _ = server
    email = f"edge-{uuid.uuid4().hex[:8]}@example.com"
    registered = httpx.post(
        f"{url}/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201
    token = httpx.post(
        f"{url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    ).json()["data"]["access_token"]
    response = httpx.get(
        f"{url}/api/v1/tasks/{uuid.uuid4()}%0A", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "task_id"


def test_headers_beyond_the_limit_are_refused(server: tuple[str, Path]) -> None:
    url, _ = server
    small = httpx.get(f"{url}/health/live", headers={"X-Filler": "a" * 8000})
    assert small.status_code == 200
    large = httpx.get(f"{url}/health/live", headers={"X-Filler": "a" * 20_000})
    assert large.status_code == 431
    many = httpx.get(f"{url}/health/live", headers={f"X-Filler-{n}": "a" for n in range(120)})
    assert many.status_code == 431

    with _connect(url) as connection:  # the 32 MB header of the report: refused early
        # The server stops reading and closes early: that is the point.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(
                b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (32 << 20) + b"\r\n\r\n"
            )
        received, _ = _read_until_closed(connection)
    assert received == b"" or received.startswith(b"HTTP/1.1 431")
    assert httpx.get(f"{url}/health/live").status_code == 200


@pytest.mark.parametrize(
    "opening",
    [
        b"",  # connected, then nothing at all
        b"GET /health/live HTTP/1.1\r\nHost: x\r\n",  # headers that never end
        b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n",  # one answer, then idle keep-alive
    ],
    ids=["no-bytes", "partial-headers", "idle-keep-alive"],
)
def test_idle_and_unfinished_connections_are_closed(
    server: tuple[str, Path], opening: bytes
) -> None:
    url, _ = server
    with _connect(url) as connection:
        connection.sendall(opening)
        received, seconds = _read_until_closed(connection)
    assert seconds < TIMEOUT + SLACK
    if opening.endswith(b"\r\n\r\n"):
        assert received.startswith(b"HTTP/1.1 200")
    else:
        assert b" 200 " not in received


def test_a_stalled_body_is_408_and_the_connection_closes(server: tuple[str, Path]) -> None:
    url, _ = server
    with _connect(url) as connection:
        connection.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"email":'
        )
        received, seconds = _read_until_closed(connection)
    assert received.startswith(b"HTTP/1.1 408"), received
    assert b'"REQUEST_TIMEOUT"' in received
    assert TIMEOUT * 0.9 <= seconds < TIMEOUT + SLACK


def _counted(url: str, route: str, status: int) -> float:
    text = httpx.get(f"{url}/metrics").text
    prefix = f'taskapp_http_requests_total{{method="POST",route="{route}",status="{status}"}} '
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


def test_a_client_leaving_mid_body_is_a_499_not_a_server_error(server: tuple[str, Path]) -> None:
    url, log = server
    route = "/api/v1/auth/login"
    before = _counted(url, route, 499)
    with _connect(url) as connection:
        connection.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"email":'
        )
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while _counted(url, route, 499) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _counted(url, route, 499) == before + 1
    assert _counted(url, route, 500) == 0
    output = log.read_text()
    assert f"POST {route} 499" in output
    assert " ERROR " not in output
    assert "Traceback" not in output


def _random_address() -> str:
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


def test_forwarded_for_from_loopback_is_not_believed_by_default(server: tuple[str, Path]) -> None:
    url, _ = server
    forged = [_random_address() for _ in range(3)] + ["not-an-ip", "9" * 5000, _random_address()]
    statuses = [
        _login(url, f"nobody-{n}@example.com", {"X-Forwarded-For": address})
        for n, address in enumerate(forged)
    ]
    # Three attempts per address, and every one of them came from 127.0.0.1.
    assert statuses == [401, 401, 401, 429, 429, 429]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(proxied: str) -> None:
    clients = [_random_address() for _ in range(5)]
    statuses = [
        _login(proxied, f"nobody-{n}@example.com", {"X-Forwarded-For": f"6.6.6.6, {client}"})
        for n, client in enumerate(clients)
    ]
    assert statuses == [401] * 5  # five clients, one attempt each (the 6.6.6.6 is theirs)
    junk = [
        _login(proxied, f"junk-{n}@example.com", {"X-Forwarded-For": value})
        for n, value in enumerate(["not-an-ip", "1.2.3", "9" * 5000, "::g"])
    ]
    assert junk == [401, 401, 401, 429]  # all counted against the proxy's own address
