"""The bodies of webhook deliveries: `{type, timestamp, data, cursor}` (Standard Webhooks),
`data` in the API's own shapes, the same as a live event's."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from taskapp.domain.model.sync import ChangeEvent
from taskapp.domain.model.webhooks import PING
from taskapp.entrypoints.http.sync import event_data


class DeliveryBody(msgspec.Struct):
    type: str
    timestamp: datetime
    data: Any
    cursor: str


class PingData(msgspec.Struct):
    webhook_id: UUID


class JsonEventPayloads:
    """The `EventPayloads` port: encoded once, when a delivery is queued, so every attempt
    sends the same bytes."""

    def change(self, event: ChangeEvent, cursor: str, at: datetime) -> bytes:
        return msgspec.json.encode(DeliveryBody(event.type.value, at, event_data(event), cursor))

    def ping(self, webhook_id: UUID, cursor: str, at: datetime) -> bytes:
        return msgspec.json.encode(DeliveryBody(PING, at, PingData(webhook_id), cursor))
