"""Sync and live events: cursors into the per-user change log, pages, events.

Every change of a task (its history entry) and of a list (its list change) carries a
number, `seq`, from one sequence, assigned under the user's lock: within one user, `seq`
order is commit order (decision 0005). So the changes a reader can see always form a prefix
of the user's log, and "everything after seq N" never skips one that commits late. A cursor
is such an N, bound to its user and encoded opaquely (decision 0015).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.lists import TaskList
from taskapp.domain.model.tasks import Task

SYNC_LIMIT_DEFAULT = 500
SYNC_LIMIT_MAX = 1000
EVENT_BATCH = 200  # log entries a stream reads per round trip
STREAMS_PER_USER = 5
TICKET_TTL_SECONDS = 60
HEARTBEAT_SECONDS = 15.0

_VERSION = b"\x01"
_TAG_BYTES = 6


def _tag(user_id: UUID) -> bytes:
    return hashlib.sha256(b"taskapp sync cursor " + user_id.bytes).digest()[:_TAG_BYTES]


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """A position in one user's change log: every change with `seq` at or below is seen."""

    user_id: UUID
    seq: int

    def encode(self) -> str:
        raw = _VERSION + self.seq.to_bytes(8, "big") + _tag(self.user_id)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def start(cls, user_id: UUID) -> SyncCursor:
        return cls(user_id, 0)

    @classmethod
    def decode(cls, user_id: UUID, text: str, field: str = "cursor") -> SyncCursor:
        """The cursor `text` names, if it is well formed and the user's own; else 422."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if (
            len(text) > 64
            or len(raw) != 1 + 8 + _TAG_BYTES
            or raw[:1] != _VERSION
            or raw[9:] != _tag(user_id)
        ):
            raise ValidationFailed.of(field, "is not a cursor of yours")
        return cls(user_id, int.from_bytes(raw[1:9], "big"))


class EventType(StrEnum):
    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_COMPLETED = "task.completed"
    TASK_REOPENED = "task.reopened"
    TASK_MOVED = "task.moved"
    TASK_DELETED = "task.deleted"
    LIST_CREATED = "list.created"
    LIST_UPDATED = "list.updated"
    LIST_MOVED = "list.moved"
    LIST_DELETED = "list.deleted"

    @property
    def is_deletion(self) -> bool:
        return self in (EventType.TASK_DELETED, EventType.LIST_DELETED)

    @classmethod
    def of(cls, kind: str, action: str) -> EventType:
        """The event of a logged change: kind `task` or `list`, action as logged."""
        return cls(f"{kind}.{action.lower()}")


@dataclass(frozen=True, slots=True)
class SyncPage:
    """The objects that changed after a cursor, each in its current state, and the ids of
    those that are gone. `cursor` covers exactly this page; `has_more` says ask again."""

    tasks: list[Task]
    lists: list[TaskList]
    deleted_task_ids: list[UUID]
    deleted_list_ids: list[UUID]
    cursor: SyncCursor
    has_more: bool


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One logged change, for a live stream: the object as it is now (None once it is
    gone, which deletions always are)."""

    seq: int
    type: EventType
    object_id: UUID
    task: Task | None = None
    task_list: TaskList | None = None
