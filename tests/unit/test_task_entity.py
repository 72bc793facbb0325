"""The Task entity's own rules, with hypothesis where the rules are subtle."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import (
    DESCRIPTION_MAX_LENGTH,
    KEEP,
    TITLE_MAX_LENGTH,
    PageRequest,
    Task,
    TaskEdit,
    normalize_description,
    normalize_title,
    trim,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def new_task(**overrides: object) -> Task:
    return replace(Task.create(uuid.uuid4(), "Title", None, NOW), **overrides)  # type: ignore[arg-type]


storable_characters = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
storable = st.text(alphabet=storable_characters, max_size=300)


@given(storable)
def test_title_rule(raw: str) -> None:
    stripped = trim(raw)
    if 1 <= len(stripped) <= TITLE_MAX_LENGTH:
        assert normalize_title(raw) == stripped
    else:
        with pytest.raises(ValidationFailed) as raised:
            normalize_title(raw)
        assert raised.value.details[0].field == "title"


@pytest.mark.parametrize("bad", ["\x00", chr(0xD800), chr(0xDFFF)])
@given(head=storable, tail=storable)
def test_titles_the_database_cannot_store_are_refused(bad: str, head: str, tail: str) -> None:
    with pytest.raises(ValidationFailed):
        normalize_title("ok" + head[:100] + bad + tail[:100])


@given(
    st.none()
    | st.text(
        alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=5100
    )
)
def test_description_rule(raw: str | None) -> None:
    if raw is None or not trim(raw):
        assert normalize_description(raw) is None
    elif len(raw) <= DESCRIPTION_MAX_LENGTH:
        assert normalize_description(raw) == raw
    else:
        with pytest.raises(ValidationFailed):
            normalize_description(raw)


def test_a_new_task_is_open_at_version_one() -> None:
    task = Task.create(uuid.uuid4(), "  Buy milk ", "", NOW)
    assert (task.title, task.description, task.is_completed, task.completed_at, task.version) == (
        "Buy milk",
        None,
        False,
        None,
        1,
    )
    assert task.created_at == task.updated_at == NOW


def test_complete_and_reopen_keep_completed_at_consistent() -> None:
    task = new_task()
    completed = task.complete(LATER)
    assert completed is not None
    assert (completed.is_completed, completed.completed_at, completed.version) == (True, LATER, 2)
    assert completed.complete(LATER) is None  # no change, no new version
    reopened = completed.reopen(LATER)
    assert reopened is not None
    assert (reopened.is_completed, reopened.completed_at, reopened.version) == (False, None, 3)
    assert reopened.reopen(LATER) is None


@given(st.lists(st.sampled_from(["complete", "reopen", "toggle"]), max_size=30))
def test_any_sequence_keeps_the_invariants(actions: list[str]) -> None:
    task = new_task()
    changes = 0
    for action in actions:
        result = getattr(task, action)(LATER)
        if result is not None:
            task = result
            changes += 1
        assert task.is_completed == (task.completed_at is not None)
    assert task.version == 1 + changes


def test_edit_reports_exactly_the_changed_fields() -> None:
    task = new_task(description="old")
    assert task.edit(LATER, TaskEdit(title=" Title ")) is None
    assert task.edit(LATER, TaskEdit(description="old")) is None
    edited = task.edit(LATER, TaskEdit(title="New", description=KEEP))
    assert edited is not None
    changed, changes = edited
    assert changed.title == "New"
    assert changed.description == "old"
    assert changed.version == 2
    assert set(changes) == {"title"}
    cleared = task.edit(LATER, TaskEdit(description=None))
    assert cleared is not None
    assert cleared[0].description is None
    assert cleared[1]["description"].old == "old"


@given(page=st.integers(1, 50), limit=st.integers(1, 100), offset=st.none() | st.integers(0, 1000))
def test_page_request_offset_wins_over_page(page: int, limit: int, offset: int | None) -> None:
    request = PageRequest.of(page, limit, offset)
    assert request.offset == ((page - 1) * limit if offset is None else offset)
    assert request.limit == limit


@pytest.mark.parametrize(
    ("page", "limit", "offset"), [(0, 20, None), (1, 0, None), (1, 101, None), (1, 20, -1)]
)
def test_page_request_bounds(page: int, limit: int, offset: int | None) -> None:
    with pytest.raises(ValidationFailed):
        PageRequest.of(page, limit, offset)


@pytest.mark.parametrize("blank", ["\u2003", "\u200b", " \u3000\t", "\ufeff\u2060"])
def test_titles_of_unicode_whitespace_or_invisible_characters_are_empty(blank: str) -> None:
    with pytest.raises(ValidationFailed):
        normalize_title(blank)
    assert normalize_title(f"{blank}ok{blank}") == "ok"
