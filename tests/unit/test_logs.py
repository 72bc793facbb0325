"""What the console shows at each LOG_LEVEL."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from taskapp.entrypoints.logs import configure_logging


@pytest.fixture
def restored() -> Iterator[None]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)
    logging.getLogger("pgserver").setLevel(logging.NOTSET)


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_the_embedded_postgres_launcher_speaks_at_debug_only(
    restored: None, level: str, shown: bool
) -> None:
    stream = io.StringIO()
    configure_logging(level, json_lines=False, stream=stream)
    launcher = logging.getLogger("pgserver")
    launcher.info("Running commandline: initdb ...")
    launcher.warning("the data directory is not empty")
    logging.getLogger("taskapp").info("taskapp: API http://localhost:8000/api/v1")
    text = stream.getvalue()
    assert ("Running commandline" in text) is shown
    assert "the data directory is not empty" in text
    assert "taskapp: API" in text
