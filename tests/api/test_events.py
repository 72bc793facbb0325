"""GET /api/v1/events (Server-Sent Events) and POST /api/v1/events/ticket, through a real
`taskapp serve` process: httpx's in-process transport buffers whole answers, so a stream
that never ends could not be read there.

A change made through the API reaches an open stream within a second; a stream resumed
with `Last-Event-ID` (or `?cursor=`) gives exactly the changes it missed; a ticket works
once; the sixth stream of a user is refused; shutting the server down ends open streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import assert_error, signed_in
from tests.support.servers import running_servers

pytestmark = pytest.mark.slow

EVENTS = "/api/v1/events"
HEARTBEAT = 0.3  # the servers' heartbeat interval, short so idle streams are quick to see
WITHIN = 1.0  # the contract: a change reaches open streams within a second of commit


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(data_dir),
        "JWT_SECRET": "events-secret-" + "e" * 40,
        "RATE_LIMIT_ENABLED": "false",
        "EVENTS_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("events")
    with running_servers(1, data_dir, _environment(database_url, data_dir)) as urls:
        yield urls[0]


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield client


@dataclass
class Event:
    id: str | None = None
    event: str | None = None
    data: Any = None
    comments: list[str] = field(default_factory=list)

    @property
    def is_heartbeat(self) -> bool:
        return self.event is None and self.id is None and bool(self.comments)


class Stream:
    """An open event stream: its response, and its events one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, seconds: float = WITHIN + HEARTBEAT) -> Event:
        """The next event or heartbeat; StopAsyncIteration when the server ended it."""
        async with asyncio.timeout(seconds):
            event = Event()
            async for line in self._lines:
                if line == "":
                    if event.id or event.event or event.comments or event.data is not None:
                        return event
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    event.comments.append(value)
                elif name == "id":
                    event.id = value
                elif name == "event":
                    event.event = value
                elif name == "data":
                    event.data = json.loads(value)
            raise StopAsyncIteration

    async def change(self, seconds: float = WITHIN) -> Event:
        """The next event that is not a heartbeat."""
        async with asyncio.timeout(seconds):
            while True:
                event = await self.next()
                if not event.is_heartbeat:
                    return event


@contextlib.asynccontextmanager
async def opened(
    client: httpx.AsyncClient,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> AsyncIterator[Stream]:
    async with client.stream("GET", EVENTS, headers=headers, params=params) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "no-cache" in response.headers["cache-control"]
        yield Stream(response)


async def refused(
    client: httpx.AsyncClient,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    async with client.stream("GET", EVENTS, headers=headers, params=params) as response:
        await response.aread()
        assert response.status_code != 200
        return response


async def new_task(client: httpx.AsyncClient, user: dict[str, str], title: str) -> httpx.Response:
    response = await client.post("/api/v1/tasks", json={"title": title}, headers=user)
    assert response.status_code == 201, response.text
    return response


async def test_a_change_reaches_an_open_stream_within_a_second(
    client: httpx.AsyncClient,
) -> None:
    me, other = await signed_in(client), await signed_in(client)
    async with opened(client, me) as stream:
        first = await stream.next()  # nothing happened yet: a heartbeat comment
        assert first.is_heartbeat
        assert first.comments == ["heartbeat"]
        await new_task(client, other, "not mine")  # another user's change: not on my stream
        created = await new_task(client, me, "hello")
        started = asyncio.get_running_loop().time()
        event = await stream.change(WITHIN)
        assert asyncio.get_running_loop().time() - started < WITHIN
        assert event.event == "task.created"
        assert event.data["id"] == created.json()["data"]["id"]
        assert event.data["title"] == "hello"
        assert event.id == created.headers["x-sync-cursor"]  # the cursor after the change

        listed = await client.post("/api/v1/lists", json={"name": "Errands"}, headers=me)
        event = await stream.change()
        assert (event.event, event.data["id"]) == ("list.created", listed.json()["data"]["id"])
        assert "open_count" not in event.data
        task_id = created.json()["data"]["id"]
        deleted = await client.delete(f"/api/v1/tasks/{task_id}", headers=me)
        assert deleted.status_code in (200, 204), deleted.text
        event = await stream.change()
        assert (event.event, event.data) == ("task.deleted", {"id": task_id})
        assert (await stream.next()).is_heartbeat  # and nothing else


async def test_resuming_gives_exactly_the_missed_events(client: httpx.AsyncClient) -> None:
    me = await signed_in(client)
    first = (await new_task(client, me, "first")).json()["data"]
    async with opened(client, me) as stream:
        await new_task(client, me, "seen")
        seen = await stream.change()
    # Missed while away: a create, an update, a deletion.
    second = (await new_task(client, me, "second")).json()["data"]
    patched = await client.patch(
        f"/api/v1/tasks/{second['id']}", json={"title": "second, edited"}, headers=me
    )
    assert patched.status_code == 200, patched.text
    deleted = await client.delete(f"/api/v1/tasks/{first['id']}", headers=me)
    assert deleted.status_code in (200, 204), deleted.text

    expected = [
        ("task.created", second["id"]),
        ("task.updated", second["id"]),
        ("task.deleted", first["id"]),
    ]
    assert seen.id is not None
    resumptions = [({**me, "Last-Event-ID": seen.id}, None), (me, {"cursor": seen.id})]
    for headers, params in resumptions:
        async with opened(client, headers, params) as stream:
            got = [await stream.change() for _ in expected]
            assert [(e.event, e.data["id"]) for e in got] == expected
            assert got[1].data["title"] == "second, edited"  # objects as they are now
            assert len({e.id for e in got}) == 3
            assert (await stream.next()).is_heartbeat  # nothing repeated, nothing more
        # Resuming from the last id delivered gives nothing again.
        async with opened(client, {**me, "Last-Event-ID": got[-1].id or ""}) as stream:
            assert (await stream.next()).is_heartbeat


async def test_a_cursor_of_someone_else_or_malformed_is_422(client: httpx.AsyncClient) -> None:
    me, other = await signed_in(client), await signed_in(client)
    theirs = (await new_task(client, other, "x")).headers["x-sync-cursor"]
    response = await refused(client, {**me, "Last-Event-ID": theirs})
    assert_error(response, 422, "VALIDATION_ERROR")
    assert response.json()["error"]["details"][0]["field"] == "Last-Event-ID"
    response = await refused(client, me, {"cursor": theirs})
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_a_ticket_opens_one_stream_once(client: httpx.AsyncClient) -> None:
    me = await signed_in(client)
    issued = await client.post(f"{EVENTS}/ticket", headers=me)
    assert issued.status_code == 201, issued.text
    ticket = issued.json()["data"]["ticket"]
    assert ticket.startswith("tet_")
    async with opened(client, params={"ticket": ticket}) as stream:
        created = await new_task(client, me, "via ticket")
        event = await stream.change()
        assert event.data["id"] == created.json()["data"]["id"]
    response = await refused(client, params={"ticket": ticket})
    assert_error(response, 401, "UNAUTHORIZED")
    response = await refused(client, params={"ticket": "tet_" + "x" * 43})
    assert_error(response, 401, "UNAUTHORIZED")
    assert_error(await refused(client), 401, "UNAUTHORIZED")
    assert_error(await client.post(f"{EVENTS}/ticket"), 401, "UNAUTHORIZED")


async def test_the_sixth_stream_of_a_user_is_refused(client: httpx.AsyncClient) -> None:
    me, other = await signed_in(client), await signed_in(client)
    async with contextlib.AsyncExitStack() as streams:
        for _ in range(5):
            await streams.enter_async_context(opened(client, me))
        response = await refused(client, me)
        assert_error(response, 429, "RATE_LIMITED")
        assert "retry-after" in response.headers
        async with opened(client, other):  # someone else's streams are their own
            pass
    # Closed streams give their places back (once the server has seen them go).
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        async with client.stream("GET", EVENTS, headers=me) as response:
            if response.status_code == 200:
                break
            assert response.status_code == 429
        assert asyncio.get_running_loop().time() < deadline, "places were not given back"
        await asyncio.sleep(0.1)


async def test_shutting_down_ends_open_streams(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("events-shutdown")
    servers = running_servers(1, data_dir, _environment(database_url, data_dir))
    url = servers.__enter__()[0]
    stopped = False
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            me = await signed_in(client)
            async with opened(client, me) as stream:
                assert (await stream.next()).is_heartbeat
                stopping = asyncio.create_task(
                    asyncio.to_thread(servers.__exit__, None, None, None)
                )
                ended = False
                with contextlib.suppress(StopAsyncIteration):  # the server ends the stream
                    while True:
                        await stream.next(seconds=10)
                ended = True
                assert ended
                await asyncio.wait_for(stopping, 30)
                stopped = True
    finally:
        if not stopped:
            servers.__exit__(None, None, None)


async def test_a_change_through_one_instance_reaches_a_stream_on_another(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two server processes on one database: write through one, stream from the other.
    The change travels by PostgreSQL NOTIFY to the other process's one listener."""
    data_dir = tmp_path_factory.mktemp("events-two")
    with running_servers(2, data_dir, _environment(database_url, data_dir)) as (one, two):
        async with (
            httpx.AsyncClient(base_url=one, timeout=10) as writer,
            httpx.AsyncClient(base_url=two, timeout=10) as reader,
        ):
            me = await signed_in(writer)
            async with opened(reader, me) as stream:
                assert (await stream.next()).is_heartbeat  # the stream is open and idle
                created = await new_task(writer, me, "across instances")
                started = asyncio.get_running_loop().time()
                event = await stream.change(WITHIN)
                assert asyncio.get_running_loop().time() - started < WITHIN
                assert event.event == "task.created"
                assert event.data["id"] == created.json()["data"]["id"]
                assert event.id == created.headers["x-sync-cursor"]
