"""If-Match on task changes, as RFC 9110 (13.1.1) reads it.

`*` or a comma-separated list of entity tags. If-Match compares strongly: a weak tag
(`W/"6"`) matches nothing, and an opaque tag matches only when it is exactly an ETag this
API sends, `"<version>"` (so `"05"`, `""6""` and a bare `6` match nothing). A list matches
when any of its tags does. A value that does not parse matches nothing: 412, as a stale
version would be.
"""

from __future__ import annotations

import re
from uuid import UUID

from taskapp.entrypoints.http.dependencies import Tasks

NO_VERSION = -1  # what the use cases are given when nothing can match: 412 VERSION_CONFLICT
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


async def expected_version(
    tasks: Tasks, user_id: UUID, task_id: UUID, if_match: str | None
) -> int | None:
    """The version a change must find (None: any). A list naming several versions is
    resolved against the task's current one; the change itself still checks it."""
    if if_match is None:
        return None
    versions = matching_versions(if_match)
    if versions is None:
        return None
    if len(versions) == 1:
        return next(iter(versions))
    if not versions:
        return NO_VERSION
    current = (await tasks.get(user_id, task_id)).version
    return current if current in versions else NO_VERSION
