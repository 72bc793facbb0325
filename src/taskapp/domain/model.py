"""Entities and value objects: frozen dataclasses that enforce their own rules."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import ClassVar, Generic, TypeVar
from uuid import UUID

from taskapp.domain.errors import ValidationFailed

T = TypeVar("T")


class Keep:
    """Marks "leave this field as it is" where None is a real value (clear the field)."""

    _instance: ClassVar[Keep | None] = None

    def __new__(cls) -> Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep()

EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
DISPLAY_NAME_MAX_LENGTH = 100

# What "trimmed" removes: ASCII whitespace. (Not every Unicode space: the rules must read the
# same in the OpenAPI document's regex dialect as here.)
TRIMMED = " \t\n\x0b\x0c\r"
# Deliberately modest: one "@", a dot in the domain, no spaces or control characters.
# Deliverability is the mail server's business; this only catches obvious typos.
EMAIL_CORE = r"[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f.]+(\.[^@\x00-\x20\x7f.]+)+"
_EMAIL_PATTERN = re.compile(rf"^{EMAIL_CORE}$")


def contains_unstorable_text(value: str) -> bool:
    """PostgreSQL text cannot hold NUL; lone surrogates are not valid UTF-8 either."""
    return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)


def checked_text(value: str, field: str, max_length: int) -> str:
    """The rules every stored text shares: a length bound, and only storable characters."""
    if len(value) > max_length:
        raise ValidationFailed.of(field, f"must be at most {max_length} characters")
    if contains_unstorable_text(value):
        raise ValidationFailed.of(field, "must not contain NUL or invalid characters")
    return value


def normalize_email(raw: str, field: str = "email") -> str:
    email = raw.strip(TRIMMED)
    if not email:
        raise ValidationFailed.of(field, "must not be empty")
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationFailed.of(field, f"must be at most {EMAIL_MAX_LENGTH} characters")
    if contains_unstorable_text(email) or not _EMAIL_PATTERN.fullmatch(email):
        raise ValidationFailed.of(field, "must be a valid email address")
    return email


def email_key(email: str) -> str:
    """The case-insensitive identity of an address: how uniqueness and lookups compare it."""
    return email.strip(TRIMMED).lower()


def check_password(password: str, field: str = "password") -> str:
    """Length is the only rule (NIST SP 800-63B): no composition rules, no truncation."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed.of(field, f"must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationFailed.of(field, f"must be at most {PASSWORD_MAX_LENGTH} characters")
    if contains_unstorable_text(password):
        raise ValidationFailed.of(field, "must not contain NUL or invalid characters")
    return password


def normalize_display_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    name = raw.strip()
    if not name:
        return None
    return checked_text(name, "display_name", DISPLAY_NAME_MAX_LENGTH)


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    display_name: str | None
    password_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """A stored refresh token: only its hash, never the token itself."""

    id: UUID
    user_id: UUID
    family_id: UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


TITLE_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 5000


def normalize_title(raw: str) -> str:
    title = raw.strip(TRIMMED)
    if not title:
        raise ValidationFailed.of("title", "must not be empty")
    return checked_text(title, "title", TITLE_MAX_LENGTH)


def normalize_description(raw: str | None) -> str | None:
    """An empty description is no description: stored as null."""
    if raw is None or raw == "":
        return None
    return checked_text(raw, "description", DESCRIPTION_MAX_LENGTH)


class ActionType(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    COMPLETED = "COMPLETED"
    REOPENED = "REOPENED"
    DELETED = "DELETED"


class TaskStatus(StrEnum):
    ALL = "all"
    OPEN = "open"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class FieldChange:
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class Task:
    """A user's task. Every change returns a new Task with `version` one higher."""

    id: UUID
    user_id: UUID
    title: str
    description: str | None
    is_completed: bool
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def create(cls, user_id: UUID, title: str, description: str | None, now: datetime) -> Task:
        return cls(
            id=uuid.uuid4(),
            user_id=user_id,
            title=normalize_title(title),
            description=normalize_description(description),
            is_completed=False,
            completed_at=None,
            created_at=now,
            updated_at=now,
        )

    def complete(self, now: datetime) -> Task | None:
        """The completed task, or None when it already was (no change, no new version)."""
        if self.is_completed:
            return None
        return replace(
            self, is_completed=True, completed_at=now, updated_at=now, version=self.version + 1
        )

    def reopen(self, now: datetime) -> Task | None:
        if not self.is_completed:
            return None
        return replace(
            self, is_completed=False, completed_at=None, updated_at=now, version=self.version + 1
        )

    def toggle(self, now: datetime) -> Task:
        changed = self.reopen(now) if self.is_completed else self.complete(now)
        assert changed is not None  # one of the two always applies
        return changed

    def edit(
        self, now: datetime, *, title: str | None = None, description: str | Keep | None = KEEP
    ) -> tuple[Task, dict[str, FieldChange]] | None:
        """Apply the given fields; None when nothing actually changes."""
        changes: dict[str, FieldChange] = {}
        new_title = self.title if title is None else normalize_title(title)
        if new_title != self.title:
            changes["title"] = FieldChange(self.title, new_title)
        new_description = (
            self.description
            if isinstance(description, Keep)
            else normalize_description(description)
        )
        if new_description != self.description:
            changes["description"] = FieldChange(self.description, new_description)
        if not changes:
            return None
        edited = replace(
            self,
            title=new_title,
            description=new_description,
            updated_at=now,
            version=self.version + 1,
        )
        return edited, changes


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of one task, as it was at that moment. Never updated, never deleted."""

    id: UUID
    user_id: UUID
    task_id: UUID
    task_title: str
    action_type: ActionType
    description: str
    changes: dict[str, FieldChange] | None
    timestamp: datetime

    @classmethod
    def record(
        cls,
        task: Task,
        action: ActionType,
        now: datetime,
        changes: dict[str, FieldChange] | None = None,
    ) -> HistoryEntry:
        return cls(
            id=uuid.uuid4(),
            user_id=task.user_id,
            task_id=task.id,
            task_title=task.title,
            action_type=action,
            description=_describe(action, task.title, changes),
            changes=changes,
            timestamp=now,
        )


def _describe(action: ActionType, title: str, changes: dict[str, FieldChange] | None) -> str:
    if action is ActionType.UPDATED and changes:
        return f"Updated {' and '.join(sorted(changes))} of task '{title}'"
    verb = {
        ActionType.CREATED: "Created",
        ActionType.UPDATED: "Updated",
        ActionType.COMPLETED: "Completed",
        ActionType.REOPENED: "Reopened",
        ActionType.DELETED: "Deleted",
    }[action]
    return f"{verb} task '{title}'"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.limit)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """page/limit/offset as the contract defines them: an explicit offset wins over page."""

    offset: int = 0
    limit: int = 20

    MAX_LIMIT: ClassVar[int] = 100
    MAX_PAGE: ClassVar[int] = 10_000_000
    MAX_OFFSET: ClassVar[int] = 1_000_000_000

    @classmethod
    def of(cls, page: int = 1, limit: int = 20, offset: int | None = None) -> PageRequest:
        if not 1 <= page <= cls.MAX_PAGE:
            raise ValidationFailed.of("page", f"must be between 1 and {cls.MAX_PAGE}")
        if not 1 <= limit <= cls.MAX_LIMIT:
            raise ValidationFailed.of("limit", f"must be between 1 and {cls.MAX_LIMIT}")
        if offset is not None and not 0 <= offset <= cls.MAX_OFFSET:
            raise ValidationFailed.of("offset", f"must be between 0 and {cls.MAX_OFFSET}")
        return cls(offset=(page - 1) * limit if offset is None else offset, limit=limit)


@dataclass(frozen=True, slots=True)
class TaskQuery:
    status: TaskStatus = TaskStatus.ALL
    search: str | None = None

    def __post_init__(self) -> None:
        if self.search is None:
            return
        if len(self.search) > TITLE_MAX_LENGTH:
            raise ValidationFailed.of("q", f"must be at most {TITLE_MAX_LENGTH} characters")
        if contains_unstorable_text(self.search):
            raise ValidationFailed.of("q", "must not contain NUL or invalid characters")


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"  # this request owns the key: go ahead
    REPLAY = "replay"  # done before with the same body: answer with `task`
    IN_PROGRESS = "in_progress"  # another request with the key is still running
    MISMATCH = "mismatch"  # the key was used with a different body


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    status: ClaimStatus
    task: Task | None = None


@dataclass(frozen=True, slots=True)
class Week:
    """Monday 00:00 to the next Monday 00:00 (exclusive) in one time zone."""

    start: datetime
    end: datetime
    timezone: str

    @classmethod
    def containing(cls, day: date, zone: tzinfo, zone_name: str) -> Week:
        monday = day - timedelta(days=day.weekday())
        start = datetime.combine(monday, time.min, tzinfo=zone)
        end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone)
        # Aware datetimes in a zone keep their wall-clock meaning across DST changes, so the
        # week is 167, 168 or 169 real hours long, as it should be.
        return cls(start, end, zone_name)


@dataclass(frozen=True, slots=True)
class WeekCounts:
    created: int
    completed: int
    total_completed: int
    total_incomplete: int


@dataclass(frozen=True, slots=True)
class WeeklyStats:
    week: Week
    counts: WeekCounts


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class DownloadEvent:
    """One completed export: what was downloaded, when, and how many tasks it held."""

    id: UUID
    user_id: UUID
    format: ExportFormat
    item_count: int
    created_at: datetime


COMMENT_MAX_LENGTH = 2000


def check_rating(rating: int) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed.of("rating", "must be a whole number from 1 to 5")
    return rating


def normalize_comment(raw: str | None) -> str | None:
    if raw is None or raw.strip() == "":
        return None
    return checked_text(raw, "comment", COMMENT_MAX_LENGTH)


@dataclass(frozen=True, slots=True)
class Review:
    id: UUID
    user_id: UUID
    rating: int
    comment: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    count: int
    rating_sum: int
    distribution: dict[int, int]

    @property
    def average_rating(self) -> float:
        """Rounded half up to two decimals; 0.0 when there are no reviews (ratings are 1-5,
        so 0.0 cannot be mistaken for a real average)."""
        if self.count == 0:
            return 0.0
        exact = Decimal(self.rating_sum) / Decimal(self.count)
        return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
