"""How a listing of tasks is asked for: filters and sort, with due dates read in a zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.tasks import (
    LABEL_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Priority,
    TaskStatus,
    label_key,
)
from taskapp.domain.model.text import contains_unstorable_text

SEARCH_MAX_LENGTH = TITLE_MAX_LENGTH


class SortKey(StrEnum):
    DEFAULT = "default"  # open first, newest first (v1.0)
    DUE = "due"  # soonest first; no due date last
    PRIORITY = "priority"  # highest first
    MANUAL = "manual"  # by position
    CREATED = "created"
    UPDATED = "updated"
    TITLE = "title"  # case-insensitive


@dataclass(frozen=True, slots=True)
class TaskSort:
    key: SortKey = SortKey.DEFAULT
    descending: bool = False  # a leading "-" reverses the key's natural order

    @classmethod
    def parse(cls, raw: str) -> TaskSort:
        descending = raw.startswith("-")
        try:
            return cls(SortKey(raw.removeprefix("-")), descending)
        except ValueError:
            allowed = ", ".join(k.value for k in SortKey)
            raise ValidationFailed.of(
                "sort", f"must be one of {allowed}, optionally with a leading -"
            ) from None


INBOX = "inbox"
TOP_LEVEL = "none"


@dataclass(frozen=True, slots=True)
class DueWindow:
    """`due_from` / `due_to` / `overdue` resolved to instants in the caller's zone: an
    all-day `due_date` D counts from the start of D; it is overdue from the start of D+1."""

    from_date: date | None = None
    from_instant: datetime | None = None
    to_date: date | None = None
    until_instant: datetime | None = None  # exclusive: start of the day after `due_to`
    overdue_before_date: date | None = None  # due_date < this is overdue (today in the zone)
    overdue_before_instant: datetime | None = None  # due_at < this is overdue (now)


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def start_of(day: date, zone: tzinfo) -> datetime:
    """The instant `day` begins in `zone`, in UTC; clamped at the calendar's ends."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return _EARLIEST if day.year == 1 else _LATEST


def start_of_next(day: date, zone: tzinfo) -> datetime:
    return _LATEST if day == date.max else start_of(day + timedelta(days=1), zone)


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """Every filter combines with AND; None means "not filtered"."""

    status: TaskStatus = TaskStatus.ALL
    search: str | None = None
    list_id: UUID | str | None = None  # a list's id, or INBOX
    parent_id: UUID | str | None = None  # a task's id, or TOP_LEVEL
    labels: tuple[str, ...] = ()  # every one must be carried (compared by label_key)
    priorities: frozenset[Priority] = frozenset()
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool = False
    has_due: bool | None = None
    zone_name: str = "UTC"
    sort: TaskSort = TaskSort()

    def __post_init__(self) -> None:
        if self.search is not None:
            if len(self.search) > SEARCH_MAX_LENGTH:
                raise ValidationFailed.of(
                    "search", f"must be at most {SEARCH_MAX_LENGTH} characters"
                )
            if contains_unstorable_text(self.search):
                raise ValidationFailed.of("search", "must not contain NUL or invalid characters")
        for label in self.labels:
            if not label or len(label) > LABEL_MAX_LENGTH or contains_unstorable_text(label):
                raise ValidationFailed.of(
                    "label", f"each must be 1 to {LABEL_MAX_LENGTH} storable characters"
                )

    @property
    def label_keys(self) -> tuple[str, ...]:
        return tuple(sorted({label_key(label) for label in self.labels}))

    def due_window(self, zone: tzinfo, now: datetime) -> DueWindow:
        today = now.astimezone(zone).date()
        return DueWindow(
            from_date=self.due_from,
            from_instant=None if self.due_from is None else start_of(self.due_from, zone),
            to_date=self.due_to,
            until_instant=None if self.due_to is None else start_of_next(self.due_to, zone),
            overdue_before_date=today if self.overdue else None,
            overdue_before_instant=now if self.overdue else None,
        )
