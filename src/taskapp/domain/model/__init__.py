"""Entities and value objects by topic: frozen dataclasses that enforce their own rules.

Everything is re-exported here, so `from taskapp.domain.model import Task` reads the same
for the services, the adapters and other services that import the domain.
"""

from taskapp.domain.model.accounts import (
    DISPLAY_NAME_MAX_LENGTH,
    EMAIL_CORE,
    EMAIL_MAX_LENGTH,
    EMAIL_MIN_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    AccessToken,
    RefreshToken,
    TokenPair,
    User,
    check_password,
    email_key,
    normalize_display_name,
    normalize_email,
)
from taskapp.domain.model.exports import DownloadEvent, ExportFormat
from taskapp.domain.model.history import ActionType, HistoryEntry, HistoryQuery
from taskapp.domain.model.idempotency import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IDEMPOTENCY_TTL_SECONDS,
    ClaimStatus,
    IdempotencyClaim,
    check_idempotency_key,
)
from taskapp.domain.model.paging import Page, PageRequest
from taskapp.domain.model.reviews import (
    COMMENT_MAX_LENGTH,
    RATING_MAX,
    RATING_MIN,
    Review,
    ReviewSummary,
    check_rating,
    normalize_comment,
)
from taskapp.domain.model.stats import Week, WeekCounts, WeeklyStats
from taskapp.domain.model.tasks import (
    DESCRIPTION_MAX_LENGTH,
    SEARCH_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    FieldChange,
    Task,
    TaskQuery,
    TaskStatus,
    normalize_description,
    normalize_title,
)
from taskapp.domain.model.text import (
    KEEP,
    Keep,
    checked_text,
    contains_unstorable_text,
    trim,
)

__all__ = [
    "COMMENT_MAX_LENGTH",
    "DESCRIPTION_MAX_LENGTH",
    "DISPLAY_NAME_MAX_LENGTH",
    "EMAIL_CORE",
    "EMAIL_MAX_LENGTH",
    "EMAIL_MIN_LENGTH",
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "IDEMPOTENCY_TTL_SECONDS",
    "KEEP",
    "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_LENGTH",
    "RATING_MAX",
    "RATING_MIN",
    "SEARCH_MAX_LENGTH",
    "TITLE_MAX_LENGTH",
    "AccessToken",
    "ActionType",
    "ClaimStatus",
    "DownloadEvent",
    "ExportFormat",
    "FieldChange",
    "HistoryEntry",
    "HistoryQuery",
    "IdempotencyClaim",
    "Keep",
    "Page",
    "PageRequest",
    "RefreshToken",
    "Review",
    "ReviewSummary",
    "Task",
    "TaskQuery",
    "TaskStatus",
    "TokenPair",
    "User",
    "Week",
    "WeekCounts",
    "WeeklyStats",
    "check_idempotency_key",
    "check_password",
    "check_rating",
    "checked_text",
    "contains_unstorable_text",
    "email_key",
    "normalize_comment",
    "normalize_description",
    "normalize_display_name",
    "normalize_email",
    "normalize_title",
    "trim",
]
