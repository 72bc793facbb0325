"""Units of work on asyncpg: the writes of a use case land together, or none of them.

Repositories do not send their writes at once: they describe them (`Write`), and `commit()`
sends them. A unit that only wrote is sent as ONE statement, a data-modifying CTE (a change
and its history entry: one round trip, no BEGIN/COMMIT). A unit that also had to read or
lock inside the transaction (the account flows) runs in a transaction that starts at its
first such step, and its writes are sent in order on commit. Either way a write guarded by
a version that finds its row changed makes the commit raise StaleWrite, and nothing of the
unit lands.

A write that appends to a user's change log (a history entry, a list change) names that
user (`logs_for`); once the unit has committed, the process's `ChangeNotifier` hears of
them and tells every instance's event streams, outside the transaction
(change_notices.py).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import asyncpg

from taskapp.adapters.postgres.change_notices import ChangeNotifier
from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.errors import translate
from taskapp.adapters.postgres.statements import combined, returns_position
from taskapp.domain.errors import StaleWrite


@dataclass(frozen=True, slots=True)
class Write:
    """One statement: `sql` ends in `RETURNING 1` and has `{go}` where the condition that
    the earlier guarded writes found their rows belongs. A guarded write must hit exactly
    `rows` rows (one for a single task, n for n tasks at their expected versions).
    `logs_for`: the users whose change log the write appends to (directly or by trigger)."""

    sql: str
    args: tuple[Any, ...]
    guarded: bool = False
    rows: int = 1
    logs_for: tuple[UUID, ...] = ()


# The log position (`seq`) of the last history entry this request's units of work committed:
# the HTTP edge turns it into X-Sync-Cursor without reading the log again. Per request:
# each request runs in a context of its own, and the edge resets it when a request starts.
committed_position: ContextVar[int | None] = ContextVar("committed_position", default=None)


class Session:
    """What one unit of work's repositories share: its pending writes, and the connection
    and transaction once a step needs them before the commit."""

    def __init__(self, database: Database, notifier: ChangeNotifier | None = None) -> None:
        self._database = database
        self._notifier = notifier
        self._writes: list[Write] = []
        self._connection_scope: Any = None
        self._connection: asyncpg.Connection | None = None
        self._transaction: Any = None

    def defer(self, write: Write) -> None:
        self._writes.append(write)

    async def in_transaction(self) -> asyncpg.Connection:
        """The unit's connection, inside its transaction (begun on first need)."""
        if self._connection is None:
            scope = self._database.connection()
            self._connection = await scope.__aenter__()
            self._connection_scope = scope
            try:
                self._transaction = self._connection.transaction()
                await self._transaction.start()
            except Exception as error:
                raise translate(error) from error
        return self._connection

    async def commit(self) -> None:
        writes, self._writes = self._writes, []
        try:
            if self._connection is not None:
                await self._commit_in_transaction(writes)
            elif writes:
                await self._send_at_once(writes)
            else:
                return
        except Exception as error:
            raise translate(error) from error
        await self._announce(writes)

    async def _commit_in_transaction(self, writes: list[Write]) -> None:
        assert self._connection is not None
        position = None
        for write in writes:
            rows = await self._connection.fetch(write.sql.format(go="TRUE"), *write.args)
            if write.guarded and len(rows) != write.rows:
                raise StaleWrite
            if returns_position(write.sql) and rows:
                position = max(position or 0, *(row[0] for row in rows))
        await self._transaction.commit()
        self._transaction = None
        if position is not None:
            committed_position.set(position)

    async def _announce(self, writes: list[Write]) -> None:
        """Committed: tell the notifier whose logs grew (in memory; a serverless process,
        which runs nothing in the background, sends the notice itself, best effort)."""
        notifier = self._notifier
        if notifier is None:
            return
        users = [user for write in writes for user in write.logs_for]
        if not users:
            return
        if notifier.background:
            notifier.changed(users)
        else:
            await notifier.send_now(users)

    async def _send_at_once(self, writes: list[Write]) -> None:
        if _guards_lead(writes):
            shape = tuple((w.sql, len(w.args), w.rows if w.guarded else None) for w in writes)
            args = [arg for write in writes for arg in write.args]
            result = await self._database.fetchrow(combined(shape), *args)
            assert result is not None
            *counts, position = result
            if any(
                write.guarded and count != write.rows
                for write, count in zip(writes, counts, strict=True)
            ):
                raise StaleWrite
            if position is not None:
                committed_position.set(position)
            return
        # Guards one statement cannot keep all or nothing (see _guards_lead): send the
        # writes in a transaction instead, which the failed guard rolls back (commit()
        # announces the changes once, after this returns).
        await self.in_transaction()
        await self._commit_in_transaction(writes)

    async def close(self) -> None:
        self._writes = []
        connection, self._connection = self._connection, None
        if connection is None:
            return
        scope, self._connection_scope = self._connection_scope, None
        transaction, self._transaction = self._transaction, None
        try:
            if transaction is not None and not connection.is_closed():
                await transaction.rollback()
        except Exception:  # noqa: S110 - a broken connection: the pool discards it
            pass
        finally:
            await scope.__aexit__(None, None, None)


def _guards_lead(writes: list[Write]) -> bool:
    """True when one statement can keep the unit all or nothing: no guarded write follows an
    unguarded one, and every guarded write is a single row (a row either is at its version
    or is not: 0 or 1). A guarded write of several rows could match only some of them, and
    inside one statement those would land; such units run in a transaction, which the
    failed guard rolls back."""
    seen_unguarded = False
    for write in writes:
        if write.guarded and (seen_unguarded or write.rows != 1):
            return False
        seen_unguarded = seen_unguarded or not write.guarded
    return True


class PostgresUnitOfWork:
    """The transaction boundary for one use case. Subclasses name their repositories."""

    def __init__(self, database: Database, notifier: ChangeNotifier | None = None) -> None:
        self._session = Session(database, notifier)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()
