"""PostgreSQL adapters: SQLAlchemy Core on the asyncpg driver."""
