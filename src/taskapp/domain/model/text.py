"""The rules every stored text shares: how it is trimmed, how long it may be, what it may hold."""

from __future__ import annotations

import unicodedata
from typing import ClassVar

from taskapp.domain.errors import ValidationFailed


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

# Invisible characters that are not whitespace to Python (str.isspace) but show nothing:
# zero-width space and joiners, word joiner, the byte-order mark.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def is_blank_char(ch: str) -> bool:
    """Whitespace in the Unicode sense (spaces, em spaces, line separators) or invisible."""
    return ch.isspace() or ch in _INVISIBLE


def trim(value: str) -> str:
    """One trimming rule for every text field: Unicode whitespace and invisible characters
    at either end go (a title of U+2003 or U+200B alone is empty)."""
    start, end = 0, len(value)
    while start < end and is_blank_char(value[start]):
        start += 1
    while end > start and is_blank_char(value[end - 1]):
        end -= 1
    return value[start:end]


def contains_unstorable_text(value: str) -> bool:
    """PostgreSQL text cannot hold NUL; lone surrogates are not valid UTF-8 either."""
    return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)


def checked_text(value: str, field: str, max_length: int) -> str:
    """A length bound, and only storable characters."""
    if len(value) > max_length:
        raise ValidationFailed.of(field, f"must be at most {max_length} characters")
    if contains_unstorable_text(value):
        raise ValidationFailed.of(field, "must not contain NUL or invalid characters")
    return value


def required_text(raw: str, field: str, max_length: int) -> str:
    """Trimmed, not empty, bounded, storable."""
    text = trim(raw)
    if not text:
        raise ValidationFailed.of(field, "must not be empty")
    return checked_text(text, field, max_length)


def optional_text(raw: str | None, field: str, max_length: int) -> str | None:
    """Trimmed for the emptiness test only: an empty or blank text is no text (null);
    otherwise stored as written (descriptions and comments keep their layout)."""
    if raw is None or not trim(raw):
        return None
    return checked_text(raw, field, max_length)


def normalized_identity(value: str) -> str:
    """NFKC + case folding: how identities (emails) compare, so `STRASSE@…` and
    `straße@…` are one account."""
    return unicodedata.normalize("NFKC", value).casefold()
