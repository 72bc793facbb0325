"""Request field types whose constraints are both validated and documented.

msgspec enforces these `Meta` constraints while decoding, and generates the OpenAPI schema
from the same objects, so what the document promises is exactly what the API accepts. They
mirror the domain's rules (which the domain still enforces on its own).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from taskapp.domain import model
from taskapp.domain.errors import ValidationFailed


def whole(pattern: str) -> str:
    """`pattern` as a match of the whole value, read alike by Python and ECMA-262.

    msgspec checks patterns with `re.search`, where `$` also matches before a final newline
    (so `<uuid>\\n` passed a `^...$` check); `(?!\\n)` closes that gap in Python and changes
    nothing in ECMA-262, the dialect of the OpenAPI document's readers.
    """
    return rf"^(?:{pattern})$(?!\n)"


# What a value failing each pattern is told, in words (never the regex): see messages.py.
PATTERN_MESSAGES: dict[str, str] = {}


def described(pattern: str, message: str) -> str:
    """`pattern`, remembered with the message a value that fails it gets."""
    PATTERN_MESSAGES[pattern] = message
    return pattern


# Patterns use only explicit character ranges, so every regex dialect (Python's, the
# ECMA one of JSON Schema tools) reads them alike. NUL is the one character PostgreSQL text
# cannot hold (lone surrogates cannot arrive through valid UTF-8 JSON).
_STORABLE = r"[^\x00]"
_STORABLE_TEXT = described(whole(f"{_STORABLE}*"), "must not contain NUL characters")
STORABLE_TEXT = _STORABLE_TEXT
_SPACE = r"[\t\n\x0b\x0c\r ]"  # exactly what the domain trims (model.TRIMMED)
_EMAIL = described(whole(f"{_SPACE}*{model.EMAIL_CORE}{_SPACE}*"), "must be a valid email address")
NOT_BLANK = described(
    whole(rf"{_STORABLE}*[^\x00\t\n\x0b\x0c\r ]{_STORABLE}*"), "must not be blank"
)

Email = Annotated[
    str,
    msgspec.Meta(
        max_length=model.EMAIL_MAX_LENGTH,
        pattern=_EMAIL,
        description="an email address; surrounding spaces are trimmed",
    ),
]
NewPassword = Annotated[
    str,
    msgspec.Meta(
        min_length=model.PASSWORD_MIN_LENGTH,
        max_length=model.PASSWORD_MAX_LENGTH,
        pattern=_STORABLE_TEXT,
        description="12 to 128 characters, no composition rules",
    ),
]
AnyPassword = Annotated[str, msgspec.Meta(max_length=1024)]
AnyEmail = Annotated[str, msgspec.Meta(max_length=1024)]
Token = Annotated[str, msgspec.Meta(max_length=1024)]
DisplayName = Annotated[
    str,
    msgspec.Meta(max_length=model.DISPLAY_NAME_MAX_LENGTH, pattern=_STORABLE_TEXT),
]
Title = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=model.TITLE_MAX_LENGTH,
        pattern=NOT_BLANK,
        description="trimmed; 1 to 255 characters, not only spaces",
    ),
]
Description = Annotated[
    str,
    msgspec.Meta(
        max_length=model.DESCRIPTION_MAX_LENGTH,
        pattern=_STORABLE_TEXT,
        description='up to 5000 characters; "" is stored as null',
    ),
]
Comment = Annotated[
    str,
    msgspec.Meta(max_length=model.COMMENT_MAX_LENGTH, pattern=_STORABLE_TEXT),
]
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]

UUID_CORE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_PATTERN = described(whole(UUID_CORE), "must be a UUID")
_UUID = re.compile(UUID_PATTERN)


def parse_id(raw: str, field: str) -> UUID:
    """An id from a path or query value: only the canonical 8-4-4-4-12 form, exactly as
    the OpenAPI document says (`UUID()` alone would take braces, URNs and no hyphens)."""
    if not _UUID.match(raw):
        raise ValidationFailed.of(field, "must be a UUID")
    return UUID(raw)


def optional_id(raw: str | None, field: str) -> UUID | None:
    return None if raw is None else parse_id(raw, field)


SEARCH_PATTERN = _STORABLE_TEXT
# Header values lose surrounding spaces in transit: a key may not start or end with one.
IDEMPOTENCY_KEY_PATTERN = described(
    whole(r"[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?"),
    "must be 1 to 255 printable ASCII characters, not starting or ending with a space",
)

Uuid = Annotated[
    str,
    msgspec.Meta(pattern=UUID_PATTERN, description="a UUID", extra_json_schema={"format": "uuid"}),
]
Label = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=model.LABEL_MAX_LENGTH,
        pattern=_STORABLE_TEXT,
        description="trimmed; 1 to 50 characters",
    ),
]
Labels = Annotated[
    list[Label],
    msgspec.Meta(
        max_length=100,
        description="at most 20 after duplicates (case-insensitive) collapse to the first",
    ),
]
DueAt = Annotated[
    datetime,
    msgspec.Meta(tz=True, description="a moment with its offset, e.g. 2026-11-23T09:00:00+01:00"),
]
ListName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=model.LIST_NAME_MAX_LENGTH,
        pattern=_STORABLE_TEXT,
        description="trimmed; 1 to 100 characters, unique per user (case-insensitive)",
    ),
]
Color = Annotated[
    str,
    msgspec.Meta(
        pattern=described(whole("#[0-9A-Fa-f]{6}"), "must be a colour as #RRGGBB, e.g. #3B82F6"),
        description="#RRGGBB",
    ),
]
