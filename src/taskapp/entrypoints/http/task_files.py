"""The task file formats, both ways: CSV, JSON and iCalendar out; CSV and JSON back in.

One declaration of the columns (CSV_COLUMNS) serves the export and the import, so what one
writes the other reads (tested as a round-trip property). Cells a spreadsheet would run
as a formula are written with a leading apostrophe and read back without it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, TypeVar
from uuid import UUID

import icalendar
import msgspec

from taskapp.domain.errors import FieldError, ValidationFailed
from taskapp.domain.model import (
    IMPORT_MAX_REPORTED,
    IMPORT_MAX_TASKS,
    POSITION_MAX_LENGTH,
    ImportRow,
    Priority,
    Task,
    row_field,
)
from taskapp.domain.ports import TaskBatch
from taskapp.entrypoints.http.fields import (
    Description,
    DueAt,
    Labels,
    ListName,
    Title,
    described,
    whole,
)
from taskapp.entrypoints.http.tasks import TaskOut

T = TypeVar("T")
ListNames = dict[UUID, str]

# v1.0's columns first (a v1.0 reader keeps working), then v1.1's.
CSV_COLUMNS = [
    "id",
    "title",
    "description",
    "is_completed",
    "completed_at",
    "created_at",
    "updated_at",
    "version",
    "list_id",
    "list_name",
    "parent_id",
    "position",
    "due_date",
    "due_at",
    "priority",
    "labels",
]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(cell: str) -> str:
    """Prefix a would-be formula with an apostrophe, so it is shown as text (OWASP); a cell
    that already looks neutralized gets one more, so `restore` gives back the original."""
    return "'" + cell if cell.lstrip("'").startswith(_FORMULA_STARTS) else cell


def restore(cell: str) -> str:
    """The inverse of `neutralize`."""
    if cell.startswith("'") and cell.lstrip("'").startswith(_FORMULA_STARTS):
        return cell[1:]
    return cell


def join_labels(labels: tuple[str, ...]) -> str:
    """`;` between labels; a `;` or `\\` inside a label is escaped with `\\`."""
    return ";".join(label.replace("\\", "\\\\").replace(";", "\\;") for label in labels)


def split_labels(cell: str) -> list[str]:
    labels: list[str] = []
    current: list[str] = []
    escaped = False
    for char in cell:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ";":
            labels.append("".join(current))
            current = []
        else:
            current.append(char)
    if current or labels:
        labels.append("".join(current))
    return [label for label in labels if label.strip()]


def _stamp(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def _text(value: object) -> str:
    return "" if value is None else str(value)


# --- out -------------------------------------------------------------------------------


def csv_rows(batch: TaskBatch, names: ListNames) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: quotes as needed, CRLF line ends
    for task in batch:
        writer.writerow(
            [
                str(task.id),
                neutralize(task.title),
                neutralize(task.description or ""),
                "true" if task.is_completed else "false",
                _stamp(task.completed_at),
                _stamp(task.created_at),
                _stamp(task.updated_at),
                task.version,
                _text(task.list_id),
                neutralize(names.get(task.list_id, "")) if task.list_id else "",
                _text(task.parent_id),
                task.position,
                _text(task.due_date),
                _stamp(task.due_at),
                task.priority.value,
                neutralize(join_labels(task.labels)),
            ]
        )
    return buffer.getvalue().encode("utf-8")


async def csv_file(batches: AsyncIterator[TaskBatch], names: ListNames) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_COLUMNS)
    yield buffer.getvalue().encode("utf-8")
    async for batch in batches:
        yield csv_rows(batch, names)


class ExportTaskOut(TaskOut):
    """A task as the JSON export writes it: with its list's name, which an import matches."""

    list_name: str | None = None


_json = msgspec.json.Encoder()


def export_item(task: Task, names: ListNames) -> ExportTaskOut:
    item = msgspec.convert(task, ExportTaskOut, from_attributes=True)
    if task.list_id is not None:
        item.list_name = names.get(task.list_id)
    return item


async def json_file(batches: AsyncIterator[TaskBatch], names: ListNames) -> AsyncIterator[bytes]:
    yield b"["
    separator = b""
    async for batch in batches:
        parts = []
        for task in batch:
            parts.append(separator + _json.encode(export_item(task, names)))
            separator = b","
        yield b"".join(parts)
    yield b"]"


# RFC 5545 PRIORITY: 1 highest .. 9 lowest, 0 undefined (3.8.1.9); the usual mapping of
# three levels (as Thunderbird and Apple Reminders write them).
ICS_PRIORITY = {Priority.HIGH: 1, Priority.MEDIUM: 5, Priority.LOW: 9}
_ICS_HEAD = icalendar.Calendar()
_ICS_HEAD.add("prodid", "-//taskapp//tasks export//EN")
_ICS_HEAD.add("version", "2.0")
ICS_HEAD = _ICS_HEAD.to_ical().removesuffix(b"END:VCALENDAR\r\n")
ICS_TAIL = b"END:VCALENDAR\r\n"


def vtodo(task: Task, names: ListNames) -> icalendar.Todo:
    todo = icalendar.Todo()
    todo.add("uid", str(task.id))
    todo.add("dtstamp", task.updated_at.astimezone(UTC))
    todo.add("created", task.created_at.astimezone(UTC))
    todo.add("last-modified", task.updated_at.astimezone(UTC))
    todo.add("summary", task.title)
    if task.description is not None:
        todo.add("description", task.description)
    if task.due_date is not None:
        todo.add("due", task.due_date)  # VALUE=DATE: all day
    elif task.due_at is not None:
        todo.add("due", task.due_at.astimezone(UTC))
    if task.priority in ICS_PRIORITY:
        todo.add("priority", ICS_PRIORITY[task.priority])
    if task.labels:
        todo.add("categories", list(task.labels))
    todo.add("status", "COMPLETED" if task.is_completed else "NEEDS-ACTION")
    if task.completed_at is not None:
        todo.add("completed", task.completed_at.astimezone(UTC))
    if task.parent_id is not None:
        todo.add("related-to", str(task.parent_id), parameters={"RELTYPE": "PARENT"})
    if task.list_id is not None and task.list_id in names:
        todo.add("x-taskapp-list", names[task.list_id])
    todo.add("x-taskapp-position", task.position)
    return todo


async def ics_file(batches: AsyncIterator[TaskBatch], names: ListNames) -> AsyncIterator[bytes]:
    """CRLF line ends and lines folded at 75 octets, as the library writes them."""
    yield ICS_HEAD
    async for batch in batches:
        yield b"".join(vtodo(task, names).to_ical() for task in batch)
    yield ICS_TAIL


# --- in --------------------------------------------------------------------------------


Position = Annotated[
    str,
    msgspec.Meta(
        pattern=described(
            whole(f"[0-9A-Za-z]{{1,{POSITION_MAX_LENGTH}}}"),
            f"must be 1 to {POSITION_MAX_LENGTH} letters or digits",
        ),
        description="the export's sort key among siblings (kept, so manual order survives)",
    ),
]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class ImportItem(msgspec.Struct):
    """A task of a JSON import: the export's own items (unknown fields such as `version`
    or `created_at` are ignored). `id` and `parent_id` are the file's own ids: they say
    which task is whose subtask; the imported tasks get new ids."""

    # As for a create: an all-day date or a moment, never both.
    __schema_patch__: ClassVar[dict[str, Any]] = {
        "not": {
            "required": ["due_date", "due_at"],
            "properties": {"due_date": {"type": "string"}, "due_at": {"type": "string"}},
        }
    }

    title: Title
    id: UUID | None = None
    description: Description | None = None
    is_completed: bool = False
    completed_at: Moment | None = None
    list_id: UUID | None = None
    list_name: ListName | None = None
    parent_id: UUID | None = None
    position: Position | None = None
    due_date: date | None = None
    due_at: DueAt | None = None
    priority: Priority = Priority.NONE
    labels: Labels = msgspec.field(default_factory=list)


_JSON_PATH = re.compile(r" - at `\$\[(?P<index>\d+)\](?:\.(?P<field>\w+))?")


def read_json_file(body: bytes) -> list[ImportRow]:
    try:
        items = msgspec.json.decode(body, type=list[ImportItem], strict=True)
    except msgspec.ValidationError as error:
        message = str(error)
        match = _JSON_PATH.search(message)
        if match is None:
            raise ValidationFailed.of("file", "must be a JSON array of tasks") from None
        text = message[: match.start()].replace("`", "")
        raise ValidationFailed.of(
            row_field(int(match["index"]) + 1, match["field"] or "task"), text
        ) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise ValidationFailed.of("file", "is not valid UTF-8 JSON") from None
    if len(items) > IMPORT_MAX_TASKS:
        raise ValidationFailed.of("file", f"must hold at most {IMPORT_MAX_TASKS:,} tasks")
    return [
        ImportRow(
            row=n,
            title=item.title,
            source_id=item.id,
            description=item.description,
            is_completed=item.is_completed,
            completed_at=item.completed_at,
            list_id=item.list_id,
            list_name=item.list_name,
            parent_id=item.parent_id,
            position=item.position,
            due_date=item.due_date,
            due_at=item.due_at,
            priority=item.priority,
            labels=tuple(item.labels),
        )
        for n, item in enumerate(items, start=1)
    ]


def decode_text(body: bytes) -> str:
    """UTF-8 (a BOM is dropped) or UTF-16 with its BOM; nothing else is guessed at."""
    try:
        if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return body.decode("utf-16")
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.of("file", "must be UTF-8 (or UTF-16 with a BOM) text") from None


def _boolean(cell: str) -> bool:
    value = cell.strip().lower()
    if value in ("true", "false", ""):
        return value == "true"
    raise ValueError("must be true or false")


def _moment(cell: str) -> datetime | None:
    if not cell.strip():
        return None
    value = datetime.fromisoformat(cell.strip())
    if value.tzinfo is None:
        raise ValueError("must be a timestamp with an offset")
    return value


def _optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    def parsed(cell: str) -> T | None:
        return parse(cell.strip()) if cell.strip() else None

    return parsed


_CELLS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "id": ("source_id", _optional(UUID)),
    "title": ("title", restore),
    "description": ("description", lambda c: restore(c) or None),
    "is_completed": ("is_completed", _boolean),
    "completed_at": ("completed_at", _moment),
    "list_id": ("list_id", _optional(UUID)),
    "list_name": ("list_name", lambda c: restore(c) or None),
    "parent_id": ("parent_id", _optional(UUID)),
    "position": ("position", lambda c: c.strip() or None),
    "due_date": ("due_date", _optional(date.fromisoformat)),
    "due_at": ("due_at", _moment),
    "priority": ("priority", lambda c: Priority(c.strip() or "none")),
    "labels": ("labels", lambda c: tuple(split_labels(restore(c)))),
}
_MESSAGES = {
    "source_id": "must be a UUID",
    "list_id": "must be a UUID",
    "parent_id": "must be a UUID",
    "due_date": "must be a date (YYYY-MM-DD)",
    "priority": "must be none, low, medium or high",
}


def read_csv_file(body: bytes) -> list[ImportRow]:
    """The export's CSV: a header row naming the columns (any order; `title` is required,
    unknown columns are ignored), then one task per record."""
    reader = csv.reader(io.StringIO(decode_text(body), newline=""), strict=True)
    records = _records(reader)
    try:
        header = next(records)
    except StopIteration:
        raise ValidationFailed.of("file", "holds no header row") from None
    names = [cell.strip().lower() for cell in header]
    if "title" not in names:
        raise ValidationFailed.of("file", "needs a title column")
    if len(set(names)) != len(names):
        raise ValidationFailed.of("file", "names a column twice")
    columns = [(i, _CELLS[name]) for i, name in enumerate(names) if name in _CELLS]
    rows: list[ImportRow] = []
    errors: list[FieldError] = []
    for number, record in enumerate(records, start=1):
        if number > IMPORT_MAX_TASKS:
            raise ValidationFailed.of("file", f"must hold at most {IMPORT_MAX_TASKS:,} tasks")
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        values: dict[str, Any] = {}
        for index, (attribute, parse) in columns:
            cell = record[index] if index < len(record) else ""
            try:
                values[attribute] = parse(cell)
            except ValueError as error:
                message = _MESSAGES.get(attribute) or str(error) or "is not valid"
                if len(errors) < IMPORT_MAX_REPORTED:
                    errors.append(FieldError(row_field(number, _field_of(attribute)), message))
        if not errors:
            rows.append(ImportRow(row=number, **values))
    if errors:
        raise ValidationFailed(errors)
    return rows


def _field_of(attribute: str) -> str:
    return "id" if attribute == "source_id" else attribute


def _records(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The reader's records; a malformed one (a stray quote) is a 422 naming its line."""
    line = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            message = f"is not valid CSV near line {line + 1}: {error}"
            raise ValidationFailed.of("file", message) from None
        line = getattr(reader, "line_num", line + 1)
        yield record
