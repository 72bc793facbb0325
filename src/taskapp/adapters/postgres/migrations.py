"""Run Alembic programmatically: `taskapp db ...`, server start-up and the tests share this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

import taskapp
from taskapp.adapters.postgres.database import sqlalchemy_url

# Any constant works; it only has to be the same for every instance of taskapp.
MIGRATION_LOCK_ID = 0x7461736B  # "task"


def migrations_directory() -> Path:
    packaged = Path(taskapp.__file__).parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[4] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    url = sqlalchemy_url(database_url)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    script = ScriptDirectory(str(migrations_directory()))
    return script.get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking (Alembic's env runs its own event loop): call it from a thread in async code."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def print_current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=False)
