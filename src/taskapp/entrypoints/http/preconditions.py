"""If-Match on task changes, as RFC 9110 (13.1.1) reads it.

`*` or a comma-separated list of entity tags. If-Match compares strongly: a weak tag
(`W/"6"`) matches nothing, and an opaque tag matches only when it is exactly an ETag this
API sends, `"<version>"` (so `"05"`, `""6""` and a bare `6` match nothing). A list matches
when any of its tags does. A value that does not parse matches nothing: 412, as a stale
version would be.
"""

from __future__ import annotations

import re

_ELEMENT = re.compile(r'[ \t]*(?:(W/)?"([^"\x00-\x20\x7f]*)")?[ \t]*')
_VERSION = re.compile(r"[1-9][0-9]{0,17}")  # exactly as ETag writes a version


def matching_versions(if_match: str) -> frozenset[int] | None:
    """The versions the header's strong tags name; None for `*` (any current version)."""
    if if_match.strip(" \t") == "*":
        return None
    versions: set[int] = set()
    position = 0
    while True:
        element = _ELEMENT.match(if_match, position)
        assert element is not None  # every part of the pattern may be empty
        weak, opaque = element.groups()
        if opaque is not None and weak is None and _VERSION.fullmatch(opaque):
            versions.add(int(opaque))
        position = element.end()
        if position == len(if_match):
            return frozenset(versions)
        if if_match[position] != ",":
            return frozenset()  # not a list of entity tags
        position += 1


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """What a change must find (None: any version). A value that names no version is the
    empty set: nothing matches, 412."""
    return None if if_match is None else matching_versions(if_match)
