"""The one place where errors become HTTP answers: domain codes, framework errors and bugs."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from taskapp.domain.errors import (
    DomainError,
    InsufficientScope,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from taskapp.entrypoints.http.edge import (
    CLIENT_CLOSED_REQUEST,
    BodyReadTimeout,
    ClientDisconnected,
    request_id_of,
)
from taskapp.entrypoints.http.envelope import ErrorDetail, failure
from taskapp.entrypoints.http.messages import humanize, unknown_parameter_message

__all__ = ["STATUS_BY_CODE", "handle_error", "unknown_parameter_message", "validation_message"]

logger = logging.getLogger("taskapp.http")

STATUS_BY_CODE: dict[str, int] = {
    "BAD_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "INVALID_CREDENTIALS": 401,
    "TOKEN_REUSED": 401,
    "FORBIDDEN": 403,
    "INSUFFICIENT_SCOPE": 403,
    "NOT_FOUND": 404,
    "TASK_NOT_FOUND": 404,
    "REVIEW_NOT_FOUND": 404,
    "LIST_NOT_FOUND": 404,
    "LABEL_NOT_FOUND": 404,
    "WEBHOOK_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "EMAIL_ALREADY_REGISTERED": 409,
    "IDEMPOTENCY_KEY_IN_PROGRESS": 409,
    "LIST_NAME_TAKEN": 409,
    "LIST_NOT_EMPTY": 409,
    "CONFLICT": 409,
    "LIMIT_REACHED": 409,
    "STALE_WRITE": 409,
    "VERSION_CONFLICT": 412,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "VALIDATION_ERROR": 422,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}

_CODE_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}

_MESSAGE_BY_STATUS = {
    400: "The request is malformed",
    401: "Authentication is required",
    404: "The resource does not exist",
    405: "This method is not allowed on this resource",
    413: "The request body is too large",
    415: "The request body must be JSON (Content-Type: application/json)",
}


class BadRequest(DomainError):
    """Not a domain rule: the HTTP request itself is malformed."""

    code = "BAD_REQUEST"
    default_message = "The request body is not valid JSON"


class UnsupportedMediaType(DomainError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "The request body must be JSON (Content-Type: application/json)"


def handle_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    request_id = request_id_of(request.scope)
    if isinstance(error, DomainError):
        return _domain_response(error, request_id)
    if isinstance(error, ClientDisconnected):  # a client abort, not a server error: no log
        return Response(b"", status_code=CLIENT_CLOSED_REQUEST)
    if isinstance(error, BodyReadTimeout):
        return failure(
            408,
            "REQUEST_TIMEOUT",
            "The request body stopped arriving",
            request_id=request_id,
            headers={"Connection": "close"},
        )
    if isinstance(error, ValidationException):
        details = _framework_details(error.extra, request) or [
            ErrorDetail("request", "is not valid")
        ]
        return failure(
            422,
            "VALIDATION_ERROR",
            validation_message(details),
            details=details,
            request_id=request_id,
        )
    if isinstance(error, HTTPException) and error.status_code < 500:
        status = error.status_code
        allow = next((v for k, v in (error.headers or {}).items() if k.lower() == "allow"), None)
        headers = {"Allow": allow} if allow else None
        return failure(
            status,
            _CODE_BY_STATUS.get(status, "BAD_REQUEST"),
            _MESSAGE_BY_STATUS.get(status, "The request could not be processed"),
            request_id=request_id,
            headers=headers,
        )
    logger.exception("unhandled error", extra={"request_id": request_id})
    return failure(
        500,
        "INTERNAL_ERROR",
        "An unexpected error occurred; quote the request id when reporting it",
        request_id=request_id,
    )


def _domain_response(error: DomainError, request_id: str | None) -> Response[Any]:
    status = STATUS_BY_CODE.get(error.code, 400)
    headers: dict[str, str] = {}
    details = None
    message = error.message
    if isinstance(error, ValidationFailed):
        details = [ErrorDetail(field=d.field, message=d.message) for d in error.details]
        if error.message == ValidationFailed.default_message and details:
            message = validation_message(details)
    if isinstance(error, RateLimited | ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="taskapp"'
    if isinstance(error, InsufficientScope):  # RFC 6750, section 3.1
        headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{error.scope}"'
    return failure(
        status,
        error.code,
        message,
        details=details,
        request_id=request_id,
        headers=headers or None,
    )


def validation_message(details: list[ErrorDetail]) -> str:
    """`error.message` of a 422: its details in one line ("title must not be blank")."""
    parts = [
        d.message if f"`{d.field}`" in d.message else f"{d.field} {d.message}" for d in details[:3]
    ]
    if len(details) > 3:
        parts.append(f"and {len(details) - 3} more (see details)")
    return "; ".join(parts)


def _framework_details(extra: Any, request: Request[Any, Any, Any]) -> list[ErrorDetail] | None:
    """Litestar's parameter errors, in words (the parameter's type gives an enum's values)."""
    if not isinstance(extra, list):
        return None
    try:
        parameters = request.route_handler.parsed_fn_signature.parameters
    except Exception:  # no handler (a routing error): no types to consult
        parameters = {}
    kinds = {
        (getattr(f.kwarg_definition, "name", None) or name): f.annotation
        for name, f in parameters.items()
    }
    details = []
    for item in extra:
        if isinstance(item, dict):
            field = str(item.get("key") or "request")
            text = str(item.get("message", "is invalid"))
            details.append(ErrorDetail(field=field, message=humanize(text, kinds.get(field))))
    return details or None
