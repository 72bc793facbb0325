"""A full sync of a big account: `GET /api/v1/sync` page by page (the default limit, 500)
until `has_more` is false, one request after the other as a client does, timed from the
first request to the last page read and decoded. Repeated; rounds alternate between
taskapp and the reference when there is one."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

_TIMEOUT_SECONDS = 60


class _Page(msgspec.Struct):
    tasks: list[msgspec.Raw]
    lists: list[msgspec.Raw]
    deleted_task_ids: list[str]
    deleted_list_ids: list[str]
    cursor: str
    has_more: bool


class _Envelope(msgspec.Struct):
    data: _Page


_decode = msgspec.json.Decoder(_Envelope).decode


@dataclass(frozen=True, slots=True)
class Pull:
    seconds: float
    pages: int
    objects: int
    megabytes: float
    first_page_ms: float


@dataclass(frozen=True, slots=True)
class FullSync:
    server: str  # "taskapp" or "reference"
    pulls: list[Pull]

    @property
    def median_seconds(self) -> float:
        return statistics.median(p.seconds for p in self.pulls)

    @property
    def objects(self) -> int:
        return self.pulls[-1].objects

    @property
    def objects_per_second(self) -> float:
        return self.objects / self.median_seconds if self.median_seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "objects": self.objects,
            "pages": self.pulls[-1].pages,
            "megabytes": round(self.pulls[-1].megabytes, 2),
            "seconds": [round(p.seconds, 3) for p in self.pulls],
            "median_seconds": round(self.median_seconds, 3),
            "objects_per_second": round(self.objects_per_second, 1),
            "first_page_ms": [round(p.first_page_ms, 1) for p in self.pulls],
        }


def pull(base_url: str, token: str) -> Pull:
    """Everything, from no cursor to the last page."""
    received = objects = pages = 0
    first_page_ms = 0.0
    cursor: str | None = None
    with httpx.Client(base_url=base_url, timeout=_TIMEOUT_SECONDS) as client:
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        while True:
            params = {} if cursor is None else {"cursor": cursor}
            response = client.get("/api/v1/sync", params=params, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"GET /sync answered {response.status_code}")
            page = _decode(response.content).data
            if not pages:
                first_page_ms = 1000 * (time.perf_counter() - started)
            pages += 1
            received += len(response.content)
            objects += len(page.tasks) + len(page.lists)
            objects += len(page.deleted_task_ids) + len(page.deleted_list_ids)
            cursor = page.cursor
            if not page.has_more:
                break
        elapsed = time.perf_counter() - started
    return Pull(elapsed, pages, objects, received / 1_000_000, first_page_ms)


def measure(
    servers: list[tuple[str, str]], token: str, rounds: int, expected: int
) -> list[FullSync]:
    """`rounds` full pulls per (name, base URL), interleaved; each must see `expected`
    objects."""
    pulls: dict[str, list[Pull]] = {name: [] for name, _ in servers}
    for _, base_url in servers:  # warm-up: the statement's plans, the pages in cache
        pull(base_url, token)
    for _ in range(rounds):
        for name, base_url in servers:
            result = pull(base_url, token)
            if result.objects != expected:
                raise RuntimeError(f"{name}'s full sync had {result.objects} objects")
            pulls[name].append(result)
    return [FullSync(name, pulls[name]) for name, _ in servers]
