"""The response envelope every /api/v1 answer uses: {success, data, popup, error}."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec
from litestar import Response

T = TypeVar("T")

JSON_MEDIA_TYPE = "application/json; charset=utf-8"


class ErrorDetail(msgspec.Struct):
    field: str
    message: str


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    details: list[ErrorDetail] | None = None
    request_id: str | None = None


class Envelope(msgspec.Struct, Generic[T]):
    success: bool
    data: T | None
    popup: str | None
    error: ErrorBody | None


class ErrorEnvelope(msgspec.Struct):
    success: bool
    data: None
    popup: None
    error: ErrorBody


def ok(
    data: T,
    *,
    popup: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[Envelope[T]]:
    return Response(
        Envelope(success=True, data=data, popup=popup, error=None),
        status_code=status_code,
        headers=headers,
        media_type=JSON_MEDIA_TYPE,
    )


def failure(
    status_code: int,
    code: str,
    message: str,
    *,
    details: list[ErrorDetail] | None = None,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorEnvelope]:
    body = ErrorEnvelope(
        success=False,
        data=None,
        popup=None,
        error=ErrorBody(code=code, message=message, details=details, request_id=request_id),
    )
    return Response(body, status_code=status_code, headers=headers, media_type=JSON_MEDIA_TYPE)
