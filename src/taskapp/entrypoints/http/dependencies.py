"""Dependency injection: what handlers may ask for by name, and where it comes from."""

from __future__ import annotations

from typing import Any, TypeAlias
from uuid import UUID

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from taskapp.domain.ports import Clock as ClockPort
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
Clock: TypeAlias = NamedDependency[Any]
# Declaring `user_id: CurrentUserId` is what makes a handler require a bearer token.
CurrentUserId: TypeAlias = NamedDependency[UUID]


def _accounts(state: State) -> AccountService:
    service: AccountService = state.container.accounts
    return service


def _tasks(state: State) -> TaskService:
    service: TaskService = state.container.tasks
    return service


def _history(state: State) -> HistoryService:
    service: HistoryService = state.container.history
    return service


def _stats(state: State) -> StatsService:
    service: StatsService = state.container.stats
    return service


def _exports(state: State) -> ExportService:
    service: ExportService = state.container.exports
    return service


def _reviews(state: State) -> ReviewService:
    service: ReviewService = state.container.reviews
    return service


def _clock(state: State) -> ClockPort:
    clock: ClockPort = state.container.clock
    return clock


def _user_id(request: Request[Any, Any, Any], state: State) -> UUID:
    tokens: TokenService = state.container.tokens
    return authenticate(request, tokens)


PROVIDERS = {
    "accounts": Provide(_accounts, sync_to_thread=False),
    "tasks": Provide(_tasks, sync_to_thread=False),
    "history": Provide(_history, sync_to_thread=False),
    "stats": Provide(_stats, sync_to_thread=False),
    "exports": Provide(_exports, sync_to_thread=False),
    "reviews": Provide(_reviews, sync_to_thread=False),
    "clock": Provide(_clock, sync_to_thread=False),
    "user_id": Provide(_user_id, sync_to_thread=False),
}
