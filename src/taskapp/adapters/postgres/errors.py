"""Translate driver errors into domain errors, so nothing above the adapter sees SQLAlchemy."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import asyncpg
from sqlalchemy import exc as sa_exc

from taskapp.domain.errors import DomainError, ServiceUnavailable, ValidationFailed

logger = logging.getLogger(__name__)

# SQLSTATE classes: 08 connection, 53 resources, 57 operator intervention (incl. 57014
# statement timeout and 57P01 admin shutdown), 40001/40P01 serialization and deadlock.
_UNAVAILABLE_PREFIXES = ("08", "53", "57", "58", "40")
_UNIQUE_VIOLATION = "23505"


def sqlstate_of(error: BaseException) -> str | None:
    for candidate in (getattr(error, "orig", None), error.__cause__, error):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
        cause = getattr(candidate, "__cause__", None)
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def constraint_of(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if isinstance(name, str):
            return name
    return None


def translate(
    error: BaseException, on_unique: Mapping[str, type[DomainError]] | None = None
) -> BaseException:
    """The domain error to raise instead of `error` (or `error` itself if it is a bug)."""
    if isinstance(error, DomainError):
        return error
    if isinstance(error, sa_exc.TimeoutError):  # pool checkout timed out
        return ServiceUnavailable("The database is busy; try again shortly")
    state = sqlstate_of(error)
    if state == _UNIQUE_VIOLATION and on_unique:
        constraint = constraint_of(error)
        for name, domain_error in on_unique.items():
            if constraint == name:
                return domain_error()
    if state is not None:
        if state.startswith(("22", "54")):  # data exception; input over a program limit
            return ValidationFailed([], "The input contains a value the database cannot store")
        if state.startswith("23"):
            return ValidationFailed([], "The input breaks a data integrity rule")
        if state.startswith(_UNAVAILABLE_PREFIXES):
            logger.warning("database unavailable: sqlstate %s", state)
            return ServiceUnavailable()
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return ServiceUnavailable()
    if isinstance(error, sa_exc.InterfaceError | sa_exc.OperationalError):
        return ServiceUnavailable()
    if isinstance(error, OSError | TimeoutError | ConnectionError):
        return ServiceUnavailable()
    # Raised by the driver itself on the paths that use it directly.
    if isinstance(error, asyncpg.exceptions.InterfaceError | asyncpg.PostgresConnectionError):
        return ServiceUnavailable()
    return error
