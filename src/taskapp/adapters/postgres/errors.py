"""Translate driver errors into domain errors, so nothing above the adapter sees asyncpg."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import asyncpg

from taskapp.domain.errors import (
    DomainError,
    EmailAlreadyRegistered,
    ListNameTaken,
    ServiceUnavailable,
    ValidationFailed,
)

logger = logging.getLogger(__name__)

# SQLSTATE classes: 08 connection, 53 resources, 57 operator intervention (incl. 57014
# statement timeout and 57P01 admin shutdown), 58 system, 40001/40P01 serialization and
# deadlock.
_UNAVAILABLE_PREFIXES = ("08", "53", "57", "58", "40")
_UNIQUE_VIOLATION = "23505"

# Unique constraints that mean something to a user, by name.
ON_UNIQUE: Mapping[str, type[DomainError]] = {
    "uq_users_email_key": EmailAlreadyRegistered,
    "uq_lists_user_id_name_key": ListNameTaken,
}


def translate(error: BaseException) -> BaseException:
    """The domain error to raise instead of `error` (or `error` itself if it is a bug)."""
    if isinstance(error, DomainError):
        return error
    original = error
    if isinstance(error, asyncpg.PostgresError):
        state = error.sqlstate or ""
        if state == _UNIQUE_VIOLATION:
            constraint: str = getattr(error, "constraint_name", None) or ""
            known = ON_UNIQUE.get(constraint)
            if known is not None:
                return known()
        if state.startswith(("22", "54")):  # data exception; input over a program limit
            return ValidationFailed([], "The input contains a value the database cannot store")
        if state.startswith("23"):
            return ValidationFailed([], "The input breaks a data integrity rule")
        if state.startswith(_UNAVAILABLE_PREFIXES):
            logger.warning("database unavailable: sqlstate %s", state)
            return ServiceUnavailable()
        return original
    if isinstance(error, asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        return ServiceUnavailable()
    if isinstance(error, OSError | TimeoutError | ConnectionError):
        return ServiceUnavailable()
    return error
