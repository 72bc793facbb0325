"""Dependency injection: what handlers may ask for by name, and where it comes from.

Every service comes from the container the app was built with (the composition root);
handlers name what they need with the aliases below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias
from uuid import UUID

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from taskapp.domain.ports import TokenService
from taskapp.domain.services.accounts import AccountService
from taskapp.domain.services.exports import ExportService
from taskapp.domain.services.history import HistoryService
from taskapp.domain.services.reviews import ReviewService
from taskapp.domain.services.stats import StatsService
from taskapp.domain.services.tasks import TaskService
from taskapp.entrypoints.http.auth import authenticate

Accounts: TypeAlias = NamedDependency[AccountService]
Tasks: TypeAlias = NamedDependency[TaskService]
History: TypeAlias = NamedDependency[HistoryService]
Stats: TypeAlias = NamedDependency[StatsService]
Exports: TypeAlias = NamedDependency[ExportService]
Reviews: TypeAlias = NamedDependency[ReviewService]
Clock: TypeAlias = NamedDependency[Any]  # the Clock port (a Protocol Litestar cannot check)
# Declaring `user_id: CurrentUserId` is what makes a handler require a bearer token.
CurrentUserId: TypeAlias = NamedDependency[UUID]


def _container(state: State) -> Any:
    return state.container


def _user_id(request: Request[Any, Any, Any], container: NamedDependency[Any]) -> UUID:
    tokens: TokenService = container.tokens
    return authenticate(request, tokens)


def _public(name: str) -> Callable[..., Any]:
    def provide(container: NamedDependency[Any]) -> Any:
        return getattr(container, name)

    return provide


def _signed_in(name: str) -> Callable[..., Any]:
    """A service only signed-in handlers use: it depends on `user_id`, so Litestar resolves
    container → user → service one after another, inline. (Independent dependencies are
    resolved concurrently in an anyio task group, which cost more than the work itself.)"""

    def provide(container: NamedDependency[Any], user_id: NamedDependency[UUID]) -> Any:
        del user_id
        return getattr(container, name)

    return provide


PROVIDERS = {
    "container": Provide(_container, sync_to_thread=False),
    "user_id": Provide(_user_id, sync_to_thread=False),
    "accounts": Provide(_public("accounts"), sync_to_thread=False),
    **{
        name: Provide(_signed_in(name), sync_to_thread=False)
        for name in ("tasks", "history", "stats", "exports", "reviews", "clock")
    },
}
