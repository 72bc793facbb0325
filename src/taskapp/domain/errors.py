"""One small hierarchy of domain errors, each with a stable machine code.

The HTTP layer maps codes to statuses in exactly one place; nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    code: ClassVar[str] = "DOMAIN_ERROR"
    default_message: ClassVar[str] = "The request could not be completed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"
    default_message = "The request is not valid"

    def __init__(self, details: list[FieldError], message: str | None = None) -> None:
        super().__init__(message)
        self.details = details

    @classmethod
    def of(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "The resource does not exist"


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"
    default_message = "Task not found"


class ListNotFound(NotFound):
    code = "LIST_NOT_FOUND"
    default_message = "List not found"


class LabelNotFound(NotFound):
    code = "LABEL_NOT_FOUND"
    default_message = "No task of yours carries this label"


class ListNameTaken(DomainError):
    code = "LIST_NAME_TAKEN"
    default_message = "You already have a list with this name"


class ListNotEmpty(DomainError):
    code = "LIST_NOT_EMPTY"
    default_message = "The list still holds tasks; delete them with it (with_tasks=true)"


class ReviewNotFound(NotFound):
    code = "REVIEW_NOT_FOUND"
    default_message = "You have not submitted a review yet"


class WebhookNotFound(NotFound):
    code = "WEBHOOK_NOT_FOUND"
    default_message = "Webhook not found"


class ApiTokenNotFound(NotFound):
    default_message = "API token not found"


class Unauthorized(DomainError):
    code = "UNAUTHORIZED"
    default_message = "Authentication is required"


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"
    default_message = "The email or password is incorrect"


class TokenReused(Unauthorized):
    code = "TOKEN_REUSED"
    default_message = "This refresh token was already used; its session has been revoked"


class Forbidden(DomainError):
    """The caller is known, but this kind of credential may not do this (an API token on a
    route only a session may use)."""

    code = "FORBIDDEN"
    default_message = "API tokens cannot be used here; sign in with a password"


class InsufficientScope(DomainError):
    code = "INSUFFICIENT_SCOPE"
    default_message = "The API token lacks the scope this route needs"

    def __init__(self, scope: str, message: str | None = None) -> None:
        super().__init__(message or f"The API token lacks the scope {scope!r}")
        self.scope = scope


class LimitReached(DomainError):
    code = "LIMIT_REACHED"
    default_message = "The limit for this kind of item is reached"


class EmailAlreadyRegistered(DomainError):
    code = "EMAIL_ALREADY_REGISTERED"
    default_message = "An account with this email already exists"


class VersionConflict(DomainError):
    code = "VERSION_CONFLICT"
    default_message = "The task was changed by someone else; reload it and try again"


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used with a different request body"


class IdempotencyKeyInProgress(DomainError):
    code = "IDEMPOTENCY_KEY_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still being processed"


class StaleWrite(DomainError):
    """A write guarded by a version found the row changed since it was read. The task use
    cases retry on it (re-read, re-decide); it reaches a client only as `Contended`."""

    code = "STALE_WRITE"
    default_message = "The data changed while the request was being processed"


class Contended(DomainError):
    code = "CONFLICT"
    default_message = "The task is being changed by many requests at once; try again"


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    default_message = "Too many attempts; try again later"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable; try again shortly"

    def __init__(self, message: str | None = None, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)
