"""Dependency injection: what handlers may ask for by name, and where it comes from.

Everything comes from the container the app was built with (the composition root), through
one typed provider per name. Services for signed-in handlers take `user_id` as a parameter:
asking for one of them authenticates the caller first, and Litestar then resolves
container → user → service one after another, inline (independent dependencies would be
resolved concurrently in an anyio task group, which cost more than the work itself).
"""

from __future__ import annotations

from typing import Any, TypeAlias
from uuid import UUID

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from taskapp.bootstrap import Container
from taskapp.domain.model.api_tokens import Principal
from taskapp.domain.ports import Clock as ClockPort
from taskapp.domain.services.accounts import AccountService
from taskapp.domain.services.api_tokens import ApiTokenService
from taskapp.domain.services.exports import ExportService
from taskapp.domain.services.history import HistoryService
from taskapp.domain.services.imports import ImportService
from taskapp.domain.services.labels import LabelService
from taskapp.domain.services.lists import ListService
from taskapp.domain.services.reviews import ReviewService
from taskapp.domain.services.stats import StatsService
from taskapp.domain.services.sync import SyncService
from taskapp.domain.services.tasks import TaskService
from taskapp.domain.services.webhooks import WebhookService
from taskapp.entrypoints.http.scopes import authorize

Accounts: TypeAlias = NamedDependency[AccountService]
Tasks: TypeAlias = NamedDependency[TaskService]
Lists: TypeAlias = NamedDependency[ListService]
Labels: TypeAlias = NamedDependency[LabelService]
History: TypeAlias = NamedDependency[HistoryService]
Stats: TypeAlias = NamedDependency[StatsService]
Exports: TypeAlias = NamedDependency[ExportService]
Imports: TypeAlias = NamedDependency[ImportService]
Reviews: TypeAlias = NamedDependency[ReviewService]
ApiTokens: TypeAlias = NamedDependency[ApiTokenService]
Sync: TypeAlias = NamedDependency[SyncService]
Webhooks: TypeAlias = NamedDependency[WebhookService]
# The caller as the route's `scope=` declaration allows (None on public routes): for routes
# that take no user but must still refuse some credentials (see scopes.py).
Caller: TypeAlias = NamedDependency[Principal | None]
Clock: TypeAlias = NamedDependency[Any]  # the Clock port (a Protocol Litestar cannot check)
# Declaring `user_id: CurrentUserId` is what makes a handler require a bearer token.
CurrentUserId: TypeAlias = NamedDependency[UUID]
_Container: TypeAlias = NamedDependency[Container]
_SignedIn: TypeAlias = NamedDependency[UUID]


def _container(state: State) -> Container:
    container: Container = state.container
    return container


async def _caller(request: Request[Any, Any, Any], container: _Container) -> Principal | None:
    return await authorize(request, container)


async def _user_id(request: Request[Any, Any, Any], container: _Container) -> UUID:
    principal = await authorize(request, container)
    if principal is None:  # a handler that asks for a user on a public route: a bug
        raise RuntimeError("a route declared public asks for the signed-in user")
    return principal.user_id


def _accounts(container: _Container) -> AccountService:
    return container.accounts


def _tasks(container: _Container, user_id: _SignedIn) -> TaskService:
    return container.tasks


def _lists(container: _Container, user_id: _SignedIn) -> ListService:
    return container.lists


def _labels(container: _Container, user_id: _SignedIn) -> LabelService:
    return container.labels


def _history(container: _Container, user_id: _SignedIn) -> HistoryService:
    return container.history


def _stats(container: _Container, user_id: _SignedIn) -> StatsService:
    return container.stats


def _exports(container: _Container, user_id: _SignedIn) -> ExportService:
    return container.exports


def _imports(container: _Container, user_id: _SignedIn) -> ImportService:
    return container.imports


def _reviews(container: _Container, user_id: _SignedIn) -> ReviewService:
    return container.reviews


def _api_tokens(container: _Container, user_id: _SignedIn) -> ApiTokenService:
    return container.api_tokens


def _sync(container: _Container, user_id: _SignedIn) -> SyncService:
    return container.sync


def _webhooks(container: _Container, user_id: _SignedIn) -> WebhookService:
    return container.webhooks


def _clock(container: _Container, user_id: _SignedIn) -> ClockPort:
    return container.clock


PROVIDERS = {
    "container": Provide(_container, sync_to_thread=False),
    "user_id": Provide(_user_id),
    "caller": Provide(_caller),
    "api_tokens": Provide(_api_tokens, sync_to_thread=False),
    "accounts": Provide(_accounts, sync_to_thread=False),
    "tasks": Provide(_tasks, sync_to_thread=False),
    "lists": Provide(_lists, sync_to_thread=False),
    "labels": Provide(_labels, sync_to_thread=False),
    "history": Provide(_history, sync_to_thread=False),
    "stats": Provide(_stats, sync_to_thread=False),
    "exports": Provide(_exports, sync_to_thread=False),
    "imports": Provide(_imports, sync_to_thread=False),
    "reviews": Provide(_reviews, sync_to_thread=False),
    "sync": Provide(_sync, sync_to_thread=False),
    "webhooks": Provide(_webhooks, sync_to_thread=False),
    "clock": Provide(_clock, sync_to_thread=False),
}
