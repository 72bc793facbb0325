"""The accounts unit of work: users and refresh tokens."""

from __future__ import annotations

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.refresh_tokens import PostgresRefreshTokenRepository
from taskapp.adapters.postgres.unit_of_work import PostgresUnitOfWork
from taskapp.adapters.postgres.users import PostgresUserRepository


class PostgresAccountsUnitOfWork(PostgresUnitOfWork):
    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.users = PostgresUserRepository(self._session)
        self.refresh_tokens = PostgresRefreshTokenRepository(self._session)
