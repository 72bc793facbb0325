"""Offset pages: what a listing asks for and what it gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from taskapp.domain.errors import ValidationFailed

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.limit)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """page/limit/offset as the contract defines them: an explicit offset wins over page."""

    offset: int = 0
    limit: int = 20

    MAX_LIMIT: ClassVar[int] = 100
    MAX_PAGE: ClassVar[int] = 10_000_000
    MAX_OFFSET: ClassVar[int] = 1_000_000_000

    @classmethod
    def of(cls, page: int = 1, limit: int = 20, offset: int | None = None) -> PageRequest:
        if not 1 <= page <= cls.MAX_PAGE:
            raise ValidationFailed.of("page", f"must be between 1 and {cls.MAX_PAGE}")
        if not 1 <= limit <= cls.MAX_LIMIT:
            raise ValidationFailed.of("limit", f"must be between 1 and {cls.MAX_LIMIT}")
        if offset is not None and not 0 <= offset <= cls.MAX_OFFSET:
            raise ValidationFailed.of("offset", f"must be between 0 and {cls.MAX_OFFSET}")
        return cls(offset=(page - 1) * limit if offset is None else offset, limit=limit)
