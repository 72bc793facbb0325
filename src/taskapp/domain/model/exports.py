"""Exports and the record of completed downloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    ICS = "ics"


@dataclass(frozen=True, slots=True)
class DownloadEvent:
    """One completed export: what was downloaded, when, and how many tasks it held."""

    id: UUID
    user_id: UUID
    format: ExportFormat
    item_count: int
    created_at: datetime
