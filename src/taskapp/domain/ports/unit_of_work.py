"""The unit of work: the transaction boundary of a write use case."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self


class UnitOfWork(Protocol):
    """An async context manager: nothing it was told lands unless `commit()` is called.

    Writes may be sent as late as `commit()` (the PostgreSQL adapter sends a unit's writes
    as one statement), so a write that was guarded by a version surfaces its lost race there,
    as `StaleWrite`.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...
