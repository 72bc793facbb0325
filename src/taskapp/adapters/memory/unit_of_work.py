"""In-memory units of work: changes go to a copy of the store and replace it on commit.

Units run one at a time (one lock), so a guarded write can check its version when it is
made; a lost race is still reported where PostgreSQL reports it, on commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from taskapp.adapters.memory.store import MemoryStore
from taskapp.domain.errors import EmailAlreadyRegistered, ListNameTaken, StaleWrite
from taskapp.domain.model import (
    LISTS_PER_USER,
    TASKS_PER_USER,
    HistoryEntry,
    RefreshToken,
    Task,
    TaskList,
    User,
    email_key,
    list_name_key,
)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._working = MemoryStore()
        self._stale = False

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        self._working = self._store.copy()
        self._stale = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._store.lock.release()

    def _guard(self, holds: bool) -> None:
        self._stale = self._stale or not holds

    async def commit(self) -> None:
        if self._stale:
            raise StaleWrite
        self._store.take(self._working)


class _TaskWrites:
    def __init__(self, unit: MemoryTasksUnitOfWork) -> None:
        self._unit = unit

    async def add(self, task: Task) -> None:
        mine = sum(1 for t in self._unit._working.tasks.values() if t.user_id == task.user_id)
        if mine >= TASKS_PER_USER:
            self._unit._guard(False)
            return
        self._unit._working.tasks[task.id] = task

    async def add_many(self, tasks: Sequence[Task]) -> None:
        if not tasks:
            return
        user_id = tasks[0].user_id
        mine = sum(1 for t in self._unit._working.tasks.values() if t.user_id == user_id)
        if mine + len(tasks) > TASKS_PER_USER:
            self._unit._guard(False)
            return
        for task in tasks:
            self._unit._working.tasks[task.id] = task

    async def update(self, task: Task, *, expected_version: int) -> None:
        if self._current_version(task) == expected_version:
            self._unit._working.tasks[task.id] = task
        else:
            self._unit._guard(False)

    async def update_many(self, changes: Sequence[tuple[Task, int]]) -> None:
        if any(self._current_version(task) != version for task, version in changes):
            self._unit._guard(False)
            return
        for task, _ in changes:
            self._unit._working.tasks[task.id] = task

    async def delete_many(self, tasks: Sequence[Task]) -> None:
        if any(self._current_version(task) != task.version for task in tasks):
            self._unit._guard(False)
            return
        for task in tasks:
            del self._unit._working.tasks[task.id]

    async def delete(self, task: Task, *, expected_version: int) -> None:
        if self._current_version(task) == expected_version:
            del self._unit._working.tasks[task.id]
        else:
            self._unit._guard(False)

    def _current_version(self, task: Task) -> int | None:
        stored = self._unit._working.tasks.get(task.id)
        return None if stored is None or stored.user_id != task.user_id else stored.version


class _HistoryWrites:
    def __init__(self, unit: MemoryTasksUnitOfWork) -> None:
        self._unit = unit

    async def append(self, entry: HistoryEntry) -> None:
        if not self._unit._stale:
            self._unit._working.history.append(entry)
            self._unit._working.changes.append(
                ("task", entry.user_id, entry.task_id, entry.action_type.value)
            )

    async def append_many(self, entries: Sequence[HistoryEntry]) -> None:
        for entry in entries:
            await self.append(entry)


class _IdempotencyWrites:
    def __init__(self, unit: MemoryTasksUnitOfWork) -> None:
        self._unit = unit

    async def complete(self, user_id: UUID, key: str, task: Task) -> None:
        stored = self._unit._working.idempotency_keys.get((user_id, key))
        if stored is not None:
            stored.task = task


class _ListWrites:
    def __init__(self, unit: MemoryTasksUnitOfWork) -> None:
        self._unit = unit

    async def add(self, task_list: TaskList) -> None:
        lists = self._unit._working.lists
        mine = [x for x in lists.values() if x.user_id == task_list.user_id]
        if len(mine) >= LISTS_PER_USER:
            self._unit._guard(False)
            return
        if any(list_name_key(x.name) == list_name_key(task_list.name) for x in mine):
            raise ListNameTaken
        lists[task_list.id] = task_list
        self._log(task_list, "CREATED")

    def _log(self, task_list: TaskList, action: str) -> None:
        self._unit._working.changes.append(("list", task_list.user_id, task_list.id, action))

    async def update(self, task_list: TaskList, *, expected_version: int) -> None:
        lists = self._unit._working.lists
        stored = lists.get(task_list.id)
        if stored is None or stored.user_id != task_list.user_id:
            self._unit._guard(False)
            return
        if stored.version != expected_version:
            self._unit._guard(False)
            return
        key = list_name_key(task_list.name)
        if any(
            x.user_id == task_list.user_id and x.id != task_list.id and list_name_key(x.name) == key
            for x in lists.values()
        ):
            raise ListNameTaken
        lists[task_list.id] = task_list
        self._log(task_list, "MOVED" if stored.position != task_list.position else "UPDATED")

    async def delete(
        self, task_list: TaskList, *, expected_version: int, holding: Sequence[UUID] = ()
    ) -> None:
        lists = self._unit._working.lists
        stored = lists.get(task_list.id)
        if (
            stored is None
            or stored.user_id != task_list.user_id
            or stored.version != expected_version
            # The tasks deleted with it are gone from the working copy already.
            or any(t.list_id == task_list.id for t in self._unit._working.tasks.values())
        ):
            self._unit._guard(False)
        else:
            del lists[task_list.id]
            self._log(task_list, "DELETED")


class MemoryTasksUnitOfWork(MemoryUnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.tasks = _TaskWrites(self)
        self.history = _HistoryWrites(self)
        self.idempotency_keys = _IdempotencyWrites(self)
        self.lists = _ListWrites(self)


class _UserWrites:
    def __init__(self, unit: MemoryAccountsUnitOfWork) -> None:
        self._unit = unit

    async def add(self, user: User) -> None:
        users = self._unit._working.users
        key = email_key(user.email)
        if any(email_key(other.email) == key for other in users.values()):
            raise EmailAlreadyRegistered
        users[user.id] = user

    async def lock(self, user_id: UUID, *, exclusive: bool) -> None:
        """Units of work already run one at a time here."""

    async def set_password_hash(self, user_id: UUID, password_hash: str, now: datetime) -> None:
        users = self._unit._working.users
        users[user_id] = replace(users[user_id], password_hash=password_hash, updated_at=now)


class _RefreshTokenWrites:
    def __init__(self, unit: MemoryAccountsUnitOfWork) -> None:
        self._unit = unit

    async def add(self, token: RefreshToken, *, password_hash: str | None = None) -> None:
        if password_hash is not None:
            user = self._unit._working.users.get(token.user_id)
            if user is None or user.password_hash != password_hash:
                self._unit._guard(False)
                return
        self._unit._working.refresh_tokens[token.token_hash] = token

    async def spend(self, token_hash: str, now: datetime) -> RefreshToken | None:
        tokens = self._unit._working.refresh_tokens
        token = tokens.get(token_hash)
        if token is None or token.used_at or token.revoked_at or token.expires_at <= now:
            return None
        spent = replace(token, used_at=now)
        tokens[token_hash] = spent
        return spent

    async def find(self, token_hash: str) -> RefreshToken | None:
        return self._unit._working.refresh_tokens.get(token_hash)

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        self._revoke(lambda t: t.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        self._revoke(lambda t: t.user_id == user_id, now)

    def _revoke(self, matches: Callable[[RefreshToken], bool], now: datetime) -> None:
        tokens = self._unit._working.refresh_tokens
        for key, token in tokens.items():
            if matches(token) and token.revoked_at is None:
                tokens[key] = replace(token, revoked_at=now)


class MemoryAccountsUnitOfWork(MemoryUnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.users = _UserWrites(self)
        self.refresh_tokens = _RefreshTokenWrites(self)
