"""`make fuzz` in small: the schemathesis CLI, every check and every phase (stateful
included), against a real `taskapp serve` on a database of its own, with the rules of
tests/support/schemathesis_rules.py (the ones the in-suite test uses), at 0 failures.

Few examples per operation (the coverage phase still sends its ~2,400 cases, whatever the
count); `make fuzz` runs the full counts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import live_fuzz

pytestmark = pytest.mark.slow

OPTIONS = (
    "--max-examples",
    "5",
    "--seed",
    "20",  # the same generated cases on every run: CI stays reproducible
    "--generation-database",
    "none",
    "--no-color",
)


def test_the_live_server_passes_every_check_in_every_phase(
    postgres_admin_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "schemathesis.txt"
    with report.open("w") as output:
        status = live_fuzz.fuzz(postgres_admin_url, OPTIONS, output, timeout_seconds=600)
    text = report.read_text()
    assert status == 0, text
    summary = text[text.rindex("SUMMARY") :]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in summary, summary
    assert " passed" in summary, summary
