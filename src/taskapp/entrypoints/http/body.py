"""Strict JSON body decoding with msgspec.

Litestar's own body handling converts leniently ("5" becomes 5); the contract wants a
string where a number belongs to be rejected, and unknown fields too. So bodies are
decoded here: malformed JSON or a non-object top level → 400, rule breaks → 422.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, TypeVar

import msgspec
from litestar import Request

from taskapp.domain.errors import FieldError, ValidationFailed
from taskapp.entrypoints.http.errors import BadRequest, UnsupportedMediaType
from taskapp.entrypoints.http.messages import humanize

T = TypeVar("T")

_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_NAMED_FIELD = re.compile(r"field `(?P<name>[^`]+)`")


@cache
def _decoder(kind: type[Any]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind, strict=True)


def is_json(request: Request[Any, Any, Any]) -> bool:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_json(request: Request[Any, Any, Any], kind: type[T]) -> T:
    body = await request.body()
    if not is_json(request):
        raise UnsupportedMediaType
    return decode_json(body, kind)


def decode_json(body: bytes, kind: type[T]) -> T:
    if not body.strip():
        raise BadRequest("A JSON request body is required")
    try:
        result: T = _decoder(kind).decode(body)  # type: ignore[arg-type]
    except msgspec.ValidationError as error:
        raise _validation_failure(str(error), kind) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid UTF-8 JSON") from None
    return result


def _validation_failure(message: str, kind: Any = None) -> Exception:
    match = _PATH.search(message)
    path = match.group("path") if match else ""
    text = message[: match.start()] if match else message
    named = _NAMED_FIELD.search(text)
    if not path and named is None:
        # The top level itself has the wrong JSON type (an array, a string...).
        return BadRequest("The request body must be a JSON object")
    field = path or (named.group("name") if named else "body")
    if named is not None and path:
        field = f"{path}.{named.group('name')}"
    return ValidationFailed([FieldError(field, _humanize(text, kind, field))])


def _field_types(kind: Any) -> dict[str, Any]:
    """A struct's fields by their JSON name, with their types."""
    try:
        return {f.encode_name: f.type for f in msgspec.structs.fields(kind)}
    except TypeError:
        return {}


def _humanize(text: str, kind: Any = None, field: str = "") -> str:
    fields = _field_types(kind)
    if text.startswith("Object contains unknown field"):
        name = field.rpartition(".")[2]
        if "." not in field and fields:
            return f"unknown field `{name}`; accepted: {', '.join(fields)}"
        return f"unknown field `{name}`"
    if text.startswith("Object missing required field"):
        return "is required"
    top = re.split(r"[.\[]", field, maxsplit=1)[0]
    return humanize(text, fields.get(top))
