import pytest


@pytest.fixture(autouse=True)
def _empty_tables(clean_tables: None) -> None:
    """Every integration test starts from an empty, migrated schema."""
