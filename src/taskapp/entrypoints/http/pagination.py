"""Paginated list bodies and the strict query-string rule shared by every route."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.params import CookieParameter, HeaderParameter, PathParameter, QueryParameter

from taskapp.domain.errors import FieldError, ValidationFailed
from taskapp.domain.model import Page, PageRequest
from taskapp.entrypoints.http.messages import unknown_parameter_message

T = TypeVar("T")
D = TypeVar("D")

PageNumber = Annotated[
    int, QueryParameter(ge=1, le=PageRequest.MAX_PAGE, description="1-based page number")
]
Limit = Annotated[int, QueryParameter(ge=1, le=PageRequest.MAX_LIMIT, description="page size")]
Offset = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        le=PageRequest.MAX_OFFSET,
        # Litestar drops bounds from the document for optional parameters: state them again.
        schema_extra={"minimum": 0, "maximum": PageRequest.MAX_OFFSET},
        description="rows to skip; wins over page when given",
    ),
]


class PageOut(msgspec.Struct, Generic[T]):
    items: list[T]
    page: int
    limit: int
    total: int
    total_pages: int

    @classmethod
    def of(cls, page: Page[D], render: Callable[[D], T]) -> PageOut[T]:
        return cls(
            items=[render(item) for item in page.items],
            page=page.page,
            limit=page.limit,
            total=page.total,
            total_pages=page.total_pages,
        )


_accepted: dict[int, frozenset[str]] = {}


async def reject_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    """A query parameter the route does not declare is a client mistake: 422, not ignored.

    `async` on purpose: Litestar runs a sync before_request hook in a worker thread.
    """
    if not request.scope.get("query_string"):
        return
    handler = request.route_handler
    accepted = _accepted.get(id(handler))
    if accepted is None:
        accepted = _query_parameters(handler)
        _accepted[id(handler)] = accepted
    problems = [
        FieldError(name, unknown_parameter_message(name, _ordered(handler)))
        for name in sorted(set(request.query_params))
        if name not in accepted
    ]
    problems += [
        FieldError(name, "must be given at most once")
        for name in sorted(set(request.query_params))
        if len(request.query_params.getall(name)) > 1 and name not in _repeatable(handler)
    ]
    problems += [
        FieldError(name, "must be a value, not null (leave the parameter out instead)")
        for name, value in request.query_params.items()
        if value == "null" and name in _not_text(handler)
    ]
    # Litestar would read 1e3 or 1.0 as integers; the contract says plain decimal digits.
    problems += [
        FieldError(name, "must be a whole number in decimal digits")
        for name, value in request.query_params.items()
        if name in _integers(handler) and value != "null" and not _INTEGER.fullmatch(value)
    ]
    if problems:
        raise ValidationFailed(problems)


_ordered_names: dict[int, tuple[str, ...]] = {}


def _ordered(handler: HTTPRouteHandler) -> tuple[str, ...]:
    """The accepted query parameters in the order the handler declares them."""
    names = _ordered_names.get(id(handler))
    if names is None:
        accepted = _query_parameters(handler)
        names = tuple(
            public
            for name, field in handler.parsed_fn_signature.parameters.items()
            for kwarg in [field.kwarg_definition]
            for public in [kwarg.name if isinstance(kwarg, QueryParameter) and kwarg.name else name]
            if public in accepted
        )
        _ordered_names[id(handler)] = names
    return names


_repeatable_names: dict[int, frozenset[str]] = {}


def _repeatable(handler: HTTPRouteHandler) -> frozenset[str]:
    """Parameters declared as lists (`?label=a&label=b`)."""
    names = _repeatable_names.get(id(handler))
    if names is None:
        names = frozenset(
            (kwarg.name if isinstance(kwarg, QueryParameter) and kwarg.name else name)
            for name, field in handler.parsed_fn_signature.parameters.items()
            if field.is_non_string_sequence
            or any(t.is_non_string_sequence for t in field.inner_types)
            for kwarg in [field.kwarg_definition]
        )
        _repeatable_names[id(handler)] = names
    return names


_NOT_QUERY = {"request", "state", "headers", "cookies", "query", "scope", "body", "data"}


def _query_parameters(handler: HTTPRouteHandler) -> frozenset[str]:
    """The handler's own query parameters: not dependencies, path, header or cookie ones."""
    dependencies = set(handler.resolve_dependencies())
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if name in dependencies or name in _NOT_QUERY:
            continue
        if isinstance(kwarg, HeaderParameter | PathParameter | CookieParameter):
            continue
        names.add(kwarg.name if isinstance(kwarg, QueryParameter) and kwarg.name else name)
    return frozenset(names)


_non_text: dict[int, frozenset[str]] = {}


def _not_text(handler: HTTPRouteHandler) -> frozenset[str]:
    """Optional parameters that are not strings: Litestar would read "null" as absent."""
    names = _non_text.get(id(handler))
    if names is None:
        names = frozenset(
            name
            for name, field in handler.parsed_fn_signature.parameters.items()
            if field.is_optional and not any(t.annotation is str for t in field.inner_types)
        )
        _non_text[id(handler)] = names
    return names


# No leading zeros, at most 18 digits; a minus sign passes, so -1 gets the range's message.
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,17})")
_integer_names: dict[int, frozenset[str]] = {}


def _integers(handler: HTTPRouteHandler) -> frozenset[str]:
    """The query parameters declared as integers."""
    names = _integer_names.get(id(handler))
    if names is None:
        names = frozenset(
            name
            for name, field in handler.parsed_fn_signature.parameters.items()
            if field.annotation is int or any(t.annotation is int for t in field.inner_types)
        )
        _integer_names[id(handler)] = names
    return names
