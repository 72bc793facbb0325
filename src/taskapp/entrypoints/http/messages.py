"""Validation messages a person can act on.

msgspec (bodies) and Litestar (query, path and header parameters) describe a broken rule
in their own words, regexes included. Everything goes through `humanize`, which says the
rule instead: "must be a valid email address", "must not be blank", "must be one of:
open, completed, all". Pattern rules take their words from `fields.PATTERN_MESSAGES`.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from taskapp.entrypoints.http.fields import PATTERN_MESSAGES

_TYPE_WORDS = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
    "datetime": "a date-time",
    "date": "a date",
    "uuid": "a UUID",
}
_REGEX = re.compile(r"Expected `str` matching regex '(?P<pattern>.*)'$", re.S)
_LENGTH = re.compile(r"Expected `(?P<kind>\w+)` of length (?P<op>[<>]=) (?P<n>\d+)$")
_BOUND = re.compile(r"Expected `(?P<kind>int|float|number)` (?P<op>[<>]=?) (?P<n>-?[\d.]+)$")
_TYPE = re.compile(r"Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_ENUM = re.compile(r"Invalid enum value (?P<value>.*)$")


def unknown_parameter_message(name: str, accepted: list[str] | tuple[str, ...]) -> str:
    """ "unknown parameter `search`; accepted: q, status, ..." (or: none are)."""
    if not accepted:
        return f"unknown parameter `{name}`; this operation takes no query parameters"
    return f"unknown parameter `{name}`; accepted: {', '.join(accepted)}"


def one_of(values: list[str]) -> str:
    return f"must be one of: {', '.join(values)}"


def enum_values(kind: Any) -> list[str] | None:
    """The values of an enum type (or of the enum inside an Optional / list)."""
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return [str(member.value) for member in kind]
    for inner in getattr(kind, "__args__", ()) or ():
        found = enum_values(inner)
        if found:
            return found
    return None


def _pattern_message(shown: str) -> str:
    """The words for a pattern as a library shows it: as written, or as its repr (msgspec
    doubles the backslashes)."""
    if shown in PATTERN_MESSAGES:
        return PATTERN_MESSAGES[shown]
    for pattern, message in PATTERN_MESSAGES.items():
        if repr(pattern)[1:-1] == shown:
            return message
    return "is not in the accepted format"


def humanize(text: str, kind: Any = None) -> str:
    """A library's validation message as a rule in words; `kind`: the field's type, when
    known (for an enum's values)."""
    text = text.strip()
    if match := _REGEX.match(text):
        return _pattern_message(match.group("pattern"))
    if match := _LENGTH.match(text):
        n = int(match.group("n"))
        unit = "characters" if match.group("kind") == "str" else "items"
        if match.group("op") == ">=":
            if n == 1:
                return "must not be empty"
            return f"must have at least {n} {unit}"
        return f"must be at most {n} {unit}"
    if match := _BOUND.match(text):
        bound = match.group("n")
        return {
            ">=": f"must be at least {bound}",
            "<=": f"must be at most {bound}",
            ">": f"must be greater than {bound}",
            "<": f"must be less than {bound}",
        }[match.group("op")]
    if match := _TYPE.match(text):
        expected = match.group("expected")
        words = " or ".join(_TYPE_WORDS.get(part, part) for part in expected.split(" | "))
        return f"must be {words}"
    if _ENUM.match(text) or text.startswith("Invalid enum"):
        values = enum_values(kind)
        return one_of(values) if values else "is not one of the accepted values"
    lowered = text.lower()
    if "rfc3339" in lowered and "date" in lowered and "datetime" not in lowered:
        return "must be a date as YYYY-MM-DD, e.g. 2026-11-27"
    if "datetime" in lowered and ("timezone" in lowered or "tz" in lowered):
        return "must be a date-time with its offset, e.g. 2026-11-23T09:00:00+01:00"
    if "rfc3339" in lowered or "datetime" in lowered:
        return "must be a date-time with its offset, e.g. 2026-11-23T09:00:00+01:00"
    if "uuid" in lowered:
        return "must be a UUID"
    if "missing required" in lowered or lowered.startswith("missing required"):
        return "is required"
    if "regex" in lowered or "pattern" in lowered:
        return "is not in the accepted format"
    return text.replace("`", "")
