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
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import assert_error, signed_in
from tests.support.servers import resident_bytes, running_servers
from tests.support.tcp_proxy import proxied_server

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


async def test_every_kind_of_change_has_its_event_name(client: httpx.AsyncClient) -> None:
    """Each change is read from the stream before the next is made: an event whose object
    is gone by the time the stream reads it is left out (its deletion follows), so changes
    made in a burst on a busy machine would hide the intermediate ones this test names."""
    me = await signed_in(client)
    got: list[Event] = []
    async with opened(client, me) as stream:

        async def made(response: httpx.Response) -> dict[str, Any]:
            assert response.status_code in (200, 201), response.text
            # Which event each change gives is the point here; timing has tests of its own.
            got.append(await stream.change(5 * WITHIN))
            body: dict[str, Any] = response.json()["data"]
            return body

        one_id = (await made(await client.post("/api/v1/lists", json={"name": "One"}, headers=me)))[
            "id"
        ]
        two_id = (await made(await client.post("/api/v1/lists", json={"name": "Two"}, headers=me)))[
            "id"
        ]
        task_id = (await made(await new_task(client, me, "t")))["id"]
        task = f"/api/v1/tasks/{task_id}"
        await made(await client.patch(task, json={"title": "t2"}, headers=me))
        await made(await client.patch(f"{task}/complete", headers=me))
        await made(await client.patch(f"{task}/incomplete", headers=me))
        await made(await client.post(f"{task}/move", json={"list_id": one_id}, headers=me))
        await made(await client.delete(task, headers=me))
        one = f"/api/v1/lists/{one_id}"
        await made(await client.patch(one, json={"name": "Uno"}, headers=me))
        await made(await client.post(f"{one}/move", json={"after_id": two_id}, headers=me))
        await made(await client.delete(one, headers=me))
    assert [(e.event, e.data["id"]) for e in got] == [
        ("list.created", one_id),
        ("list.created", two_id),
        ("task.created", task_id),
        ("task.updated", task_id),
        ("task.completed", task_id),
        ("task.reopened", task_id),
        ("task.moved", task_id),
        ("task.deleted", task_id),
        ("list.updated", one_id),
        ("list.moved", one_id),
        ("list.deleted", one_id),
    ]
    # Each carries its object as the stream read it; a deletion carries only the id.
    assert got[1].data["name"] == "Two"
    assert got[3].data["title"] == "t2"
    assert got[7].data == {"id": task_id}
    assert got[8].data["name"] == "Uno"
    assert got[10].data == {"id": one_id}


async def test_a_ticket_opens_nothing_but_the_event_stream(client: httpx.AsyncClient) -> None:
    me = await signed_in(client)
    ticket = (await client.post(f"{EVENTS}/ticket", headers=me)).json()["data"]["ticket"]
    for path in ("/api/v1/tasks", "/api/v1/sync", "/api/v1/auth/me"):
        response = await client.get(path, params={"ticket": ticket})
        # Refused: elsewhere `ticket` is no credential (401), or not even a parameter (422).
        assert response.status_code in (401, 422), response.text
        assert response.json()["data"] is None
    async with opened(client, params={"ticket": ticket}) as stream:  # still unused
        assert (await stream.next()).is_heartbeat


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


async def test_the_stream_limit_holds_across_instances(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two server processes on one database: 3 streams on one and 2 on the other are all a
    user gets; the 6th is 429 on either; a stream closed on one frees a place on the other."""
    data_dir = tmp_path_factory.mktemp("events-limit")
    with running_servers(2, data_dir, _environment(database_url, data_dir)) as (one, two):
        async with (
            httpx.AsyncClient(base_url=one, timeout=10) as first,
            httpx.AsyncClient(base_url=two, timeout=10) as second,
        ):
            me = await signed_in(first)
            async with (
                contextlib.AsyncExitStack() as streams,
                contextlib.AsyncExitStack() as one_of_them,
            ):
                await one_of_them.enter_async_context(opened(first, me))
                for _ in range(2):
                    await streams.enter_async_context(opened(first, me))
                for _ in range(2):
                    await streams.enter_async_context(opened(second, me))
                for client in (first, second):
                    response = await refused(client, me)
                    assert_error(response, 429, "RATE_LIMITED")
                    assert "retry-after" in response.headers
                await one_of_them.aclose()  # closed on the first instance ...
                deadline = asyncio.get_running_loop().time() + 5
                while True:  # ... and its place is free on the second
                    probe = second.stream("GET", EVENTS, headers=me)
                    response = await streams.enter_async_context(probe)
                    if response.status_code == 200:
                        break  # and stays open
                    await response.aread()
                    assert_error(response, 429, "RATE_LIMITED")
                    assert asyncio.get_running_loop().time() < deadline, "no place was freed"
                    await asyncio.sleep(0.1)
                for client in (first, second):  # five again: 2 on the first, 3 on the second
                    assert_error(await refused(client, me), 429, "RATE_LIMITED")


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


def _read_until(connection: socket.socket, marker: bytes, times: int) -> int:
    """Read from a blocking socket until `marker` was seen `times` times; the bytes read."""
    seen, total, tail = 0, 0, b""
    while seen < times:
        chunk = connection.recv(1 << 20)
        assert chunk, "the stream ended early"
        total += len(chunk)
        window = tail + chunk
        seen += window.count(marker) - tail.count(marker)
        tail = window[-len(marker) :]
    return total


async def test_a_reader_that_stops_reading_costs_the_server_no_memory(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A client opens a stream and never reads (a small receive buffer, no recv) while many
    large changes are written: the server does not buffer them for it (a stream holds a
    wake-up flag and reads the log itself when its socket takes more), and another stream
    of the same user still gets every change promptly."""
    data_dir = tmp_path_factory.mktemp("events-slow")
    processes: list[subprocess.Popen[bytes]] = []
    environment = _environment(database_url, data_dir)
    with running_servers(1, data_dir, environment, processes=processes) as (url,):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            me = await signed_in(client)
            tasks = [(await new_task(client, me, f"big {n}")).json()["data"] for n in range(4)]
            big = "漢" * 4990  # 15 kB of UTF-8 in every event

            async def rewrite(task: dict[str, Any], rounds: int) -> None:
                for n in range(rounds):
                    response = await client.patch(
                        f"/api/v1/tasks/{task['id']}",
                        json={"description": f"{big}{n:06d}"},
                        headers=me,
                    )
                    assert response.status_code == 200, response.text

            await asyncio.gather(*(rewrite(task, 10) for task in tasks))  # warm up
            host, port = url.removeprefix("http://").split(":")
            stalled = socket.socket()
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stalled.connect((host, int(port)))
            stalled.sendall(
                f"GET {EVENTS} HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: {me['Authorization']}\r\n"
                "Accept: text/event-stream\r\n\r\n".encode()
            )
            try:
                async with opened(client, me) as watcher:
                    last_seen: dict[str, str] = {}

                    async def watch() -> None:
                        while True:
                            event = await watcher.next(seconds=30)
                            if event.data and "description" in event.data:
                                last_seen[event.data["id"]] = event.data["description"][-6:]

                    watching = asyncio.create_task(watch())
                    await asyncio.sleep(0.5)
                    before = resident_bytes(processes[0].pid)
                    rounds = 300  # 4 x 300 changes of 15 kB: 18 MB the stalled client never reads
                    await asyncio.gather(*(rewrite(task, rounds) for task in tasks))
                    deadline = asyncio.get_running_loop().time() + WITHIN * 3
                    final = f"{rounds - 1:06d}"
                    while any(last_seen.get(task["id"]) != final for task in tasks):
                        assert asyncio.get_running_loop().time() < deadline, last_seen
                        await asyncio.sleep(0.05)
                    after = resident_bytes(processes[0].pid)
                    watching.cancel()
                    assert after - before < 10 << 20, (before, after)
                # The stalled stream was held back, not dropped: read now, it has them all.
                changes = rounds * len(tasks)
                received = await asyncio.wait_for(
                    asyncio.to_thread(_read_until, stalled, b"event: task.updated", changes), 30
                )
                assert received > changes * len(big.encode())
            finally:
                stalled.close()


async def until_answered(
    seconds: float, call: Callable[[], Awaitable[httpx.Response]], status: int
) -> httpx.Response:
    """`call` again until it answers `status` (the database is coming back)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        with contextlib.suppress(httpx.TransportError):
            response = await call()
            if response.status_code == status:
                return response
            assert response.status_code == 503, response.text
        assert asyncio.get_running_loop().time() < deadline, "the service did not come back"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(("outage", "ends_within"), [("cut", 3.0), ("stall", 10.0)])
async def test_the_database_going_away_ends_streams_and_resuming_misses_nothing(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, outage: str, ends_within: float
) -> None:
    """The database goes away under an open stream (every connection cut, or a partition
    where no byte gets through): the stream ends within seconds, not hanging; once the
    database is back, the client resumes with Last-Event-ID and gets exactly the changes
    made since, nothing missed, nothing repeated."""
    data_dir = tmp_path_factory.mktemp(f"events-{outage}")
    async with (
        proxied_server(database_url, data_dir, _environment(database_url, data_dir)) as (
            server,
            proxy,
        ),
        httpx.AsyncClient(base_url=server, timeout=10) as client,
    ):
        me = await signed_in(client)
        kept = (await new_task(client, me, "kept")).json()["data"]
        async with opened(client, me) as stream:
            await new_task(client, me, "seen")
            seen = await stream.change()
            proxy.cut() if outage == "cut" else proxy.stall()
            started = asyncio.get_running_loop().time()
            with contextlib.suppress(StopAsyncIteration):
                while True:
                    await stream.next(seconds=ends_within)
            assert asyncio.get_running_loop().time() - started < ends_within
        if outage == "cut":  # meanwhile: no change can be made, no stream opened
            down = await client.post("/api/v1/tasks", json={"title": "lost"}, headers=me)
            assert_error(down, 503, "SERVICE_UNAVAILABLE")
            assert_error(
                await refused(client, {**me, "Last-Event-ID": seen.id or ""}),
                503,
                "SERVICE_UNAVAILABLE",
            )
        proxy.restore()

        def create() -> Awaitable[httpx.Response]:
            return client.post("/api/v1/tasks", json={"title": "after"}, headers=me)

        after = (await until_answered(30, create, 201)).json()["data"]
        resume = {**me, "Last-Event-ID": seen.id or ""}
        response = await until_answered(
            15,
            lambda: client.send(client.build_request("GET", EVENTS, headers=resume), stream=True),
            200,
        )
        async with contextlib.aclosing(response):
            resumed = Stream(response)
            patched = await client.patch(
                f"/api/v1/tasks/{after['id']}", json={"title": "after, edited"}, headers=me
            )
            assert patched.status_code == 200, patched.text
            deleted = await client.delete(f"/api/v1/tasks/{kept['id']}", headers=me)
            assert deleted.status_code in (200, 204), deleted.text
            got = [await resumed.change() for _ in range(3)]
            assert [(e.event, e.data["id"]) for e in got] == [
                ("task.created", after["id"]),
                ("task.updated", after["id"]),
                ("task.deleted", kept["id"]),
            ]
            assert got[-1].id == deleted.headers["x-sync-cursor"]
            assert (await resumed.next()).is_heartbeat  # nothing repeated, nothing more


@pytest.mark.parametrize(("limit", "answered"), [(12, True), (10, False)])
async def test_open_streams_count_against_a_workers_request_limit(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, limit: int, answered: bool
) -> None:
    """Each open stream is a request in flight for as long as it is open. One worker with
    room for 12 still answers a health check at once beside 10 open streams; with room for
    exactly 10, the check waits unanswered. So MAX_CONCURRENT_REQUESTS (default 4096 per
    worker; granian's own default was 1024 divided by the workers) is what stands between
    a crowd of open tabs and every other request."""
    data_dir = tmp_path_factory.mktemp(f"events-limit-{limit}")
    environment = {
        **_environment(database_url, data_dir),
        "WEB_CONCURRENCY": "1",
        "MAX_CONCURRENT_REQUESTS": str(limit),
    }
    with running_servers(1, data_dir, environment) as (url,):
        async with (
            httpx.AsyncClient(base_url=url, timeout=10) as client,
            contextlib.AsyncExitStack() as streams,
        ):
            for _ in range(2):  # five streams each: the most one user may open
                me = await signed_in(client)
                for _ in range(5):
                    await streams.enter_async_context(opened(client, me))
            async with httpx.AsyncClient(base_url=url, timeout=2) as other:
                try:
                    status = (await other.get("/health/ready")).status_code
                except httpx.TimeoutException:
                    status = None
        assert status == (200 if answered else None)
