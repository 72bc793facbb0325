"""Ports for records written by a single statement each: downloads and reviews."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from taskapp.domain.model import DownloadEvent, Page, PageRequest, Review, ReviewSummary


class DownloadLog(Protocol):
    async def record(self, event: DownloadEvent) -> None: ...

    async def list(self, user_id: UUID, page: PageRequest) -> Page[DownloadEvent]:
        """Newest first."""
        ...


class ReviewStore(Protocol):
    async def upsert(self, review: Review) -> tuple[Review, bool]:
        """Create the user's review or update it (one per user, safe under concurrency).
        The stored review, and True when it was created."""
        ...

    async def get(self, user_id: UUID) -> Review | None: ...

    async def summary(self) -> ReviewSummary: ...
