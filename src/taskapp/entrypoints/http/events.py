"""/api/v1/events: the caller's changes as Server-Sent Events, and tickets for EventSource.

A stream starts at the cursor it is given (`Last-Event-ID`, else `?cursor=`, else the
head of the caller's log: only what happens from now on), sends every later change in
`seq` order with `id:` the cursor after it, and a comment line when nothing happened for a
while. It ends when the server shuts down or the database goes away; the client
reconnects with the last id it got and misses nothing (decision 0015).

Browsers' `EventSource` cannot send an Authorization header: `POST /events/ticket` gives a
single-use ticket, and `GET /events?ticket=...` authenticates with it (`scopes.authorize`).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from taskapp.domain.model.sync import SyncCursor
from taskapp.domain.services.sync import EventStream, Heartbeat
from taskapp.entrypoints.http.dependencies import CurrentUserId, Sync
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.openapi import BEARER, answers, documents_event_stream
from taskapp.entrypoints.http.scopes import TICKET_OPTION
from taskapp.entrypoints.http.scopes import Scope as ApiScope
from taskapp.entrypoints.http.sync import CURSOR_PATTERN, Cursor, event_data

LAST_EVENT_ID = "Last-Event-ID"

Ticket = Annotated[
    str | None,
    QueryParameter(
        max_length=64,
        description="a ticket from POST /events/ticket, instead of an Authorization header "
        "(single use, valid 60 s)",
    ),
]
LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name=LAST_EVENT_ID,
        max_length=64,
        # Documented, not enforced here: a malformed one is a 422 on `Last-Event-ID` below.
        schema_extra={"pattern": CURSOR_PATTERN},
        description="the `id:` of the last event received: the stream resumes after it "
        "(EventSource sends it when it reconnects); wins over `cursor`",
    ),
]


class TicketOut(msgspec.Struct):
    ticket: str


async def _messages(user_id: UUID, stream: EventStream) -> AsyncIterator[ServerSentEventMessage]:
    async for item in stream:
        if isinstance(item, Heartbeat):
            yield ServerSentEventMessage(data=None, comment="heartbeat")
            continue
        yield ServerSentEventMessage(
            id=SyncCursor(user_id, item.seq).encode(),
            event=item.type.value,
            data=msgspec.json.encode(event_data(item)).decode(),
        )


class EventController(Controller):
    path = "/events"
    tags = ["sync"]
    security = BEARER

    @post("/ticket", scope=ApiScope.EVENTS_READ, status_code=201, operation_id="issueEventTicket")
    async def issue_ticket(
        self, sync: Sync, user_id: CurrentUserId
    ) -> Response[Envelope[TicketOut]]:
        """A single-use ticket for `GET /events?ticket=...` (browsers' EventSource cannot
        send headers), valid 60 seconds."""
        return ok(TicketOut(await sync.issue_ticket(user_id)), status_code=201)

    @get(
        "/",
        scope=ApiScope.EVENTS_READ,
        media_type="text/event-stream",
        operation_id="streamEvents",
        opt={TICKET_OPTION: True, **documents_event_stream(), **answers(errors=("RATE_LIMITED",))},
    )
    async def events(
        self,
        sync: Sync,
        user_id: CurrentUserId,
        last_event_id: LastEventId = None,
        cursor: Cursor = None,
        ticket: Ticket = None,
    ) -> ServerSentEvent:
        """The caller's changes as Server-Sent Events, each `id:` the cursor after it: from
        `Last-Event-ID` (or `cursor`, or now), live as they commit, with a comment line
        when idle. At most 5 open streams per user, across all instances (429 beyond)."""
        if last_event_id is not None:
            after = sync.cursor(user_id, last_event_id, LAST_EVENT_ID)
        elif cursor is not None:
            after = sync.cursor(user_id, cursor, "cursor")
        else:
            after = await sync.head(user_id)
        stream = await sync.open_stream(user_id, after)
        messages = _messages(user_id, stream)
        # A stream whose body never starts (the client left first) still gives back its slot.
        weakref.finalize(messages, stream.close)
        return ServerSentEvent(
            messages,
            headers={"X-Accel-Buffering": "no"},  # nginx: pass each event on at once
        )
