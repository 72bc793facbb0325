"""The deployment layer: the app behind a real PgBouncer in transaction mode, as a server
process and as a serverless function. Skipped, with the reason in pytest's summary, where
pgbouncer cannot be had."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pgbouncer import PgBouncer, running_pgbouncer, unavailable_reason

# Few server connections for many clients: pooling bugs (a statement prepared on one
# server connection and run on another, session state) show at once.
SERVER_CONNECTIONS = 3


@pytest.fixture(scope="session")
def pgbouncer(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgBouncer]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("pgbouncer")
    with running_pgbouncer(postgres_admin_url, workdir, SERVER_CONNECTIONS) as bouncer:
        yield bouncer


@pytest.fixture(scope="session")
def pooled_url(pgbouncer: PgBouncer, database_url: str) -> str:
    return pgbouncer.url_for(database_url)


@pytest.fixture(autouse=True)
def _empty_tables(clean_tables: None) -> None:
    """Every test here starts from an empty, migrated schema."""
