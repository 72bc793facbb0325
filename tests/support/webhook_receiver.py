"""A webhook receiver on 127.0.0.1 for the delivery tests: it records every request and
answers as the test says (a status, a delay, a held request, a redirect, a huge body)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook as Verifier


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    delay: float = 0.0
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


Policy = Callable[[Received, int], Answer]  # (request, how many came before it) -> answer


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.connections = 0
        self.policy: Policy = lambda _request, _count: Answer()
        self._lock = threading.Lock()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def unique_ids(self) -> list[str]:
        return list(dict.fromkeys(item.id for item in self.received))

    def bodies(self) -> list[Any]:
        """The first body of each delivery, in the order they first arrived."""
        first: dict[str, Any] = {}
        for item in list(self.received):
            first.setdefault(item.id, item.json)
        return list(first.values())

    async def wait_for(self, predicate: Callable[[Receiver], bool], seconds: float) -> bool:
        """Poll without blocking the event loop (a test's TCP proxy runs on it)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            await asyncio.sleep(0.05)
        return predicate(self)

    def verify(self, secret: str, item: Received) -> Any:
        """Standard Webhooks' own verifier: raises unless the signature is right."""
        return Verifier(secret).verify(item.body, item.headers)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length", "0"))
        body = handler.rfile.read(length)
        request = Received({k.lower(): v for k, v in handler.headers.items()}, body, time.time())
        with self._lock:
            count = len(self.received)
            self.received.append(request)
        answer = self.policy(request, count)
        if answer.delay:
            time.sleep(answer.delay)
        try:
            handler.send_response(answer.status)
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            handler.send_header("content-length", str(len(answer.body)))
            handler.end_headers()
            handler.wfile.write(answer.body)
        except OSError:
            pass  # the sender gave up first (a timeout, a capped read)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver._handle(self)

        def setup(self) -> None:
            super().setup()
            receiver.connections += 1

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
