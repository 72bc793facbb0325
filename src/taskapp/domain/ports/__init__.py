"""Ports: the small interfaces the use cases need, by capability (typing.Protocol).

Adapters implement them structurally (no base classes). Each use-case area's unit of work
names only the repositories it writes; read ports name only the queries they answer.
"""

from taskapp.domain.ports.accounts import (
    AccountReads,
    AccountsUnitOfWork,
    AccountsUnitOfWorkFactory,
    RefreshTokenRepository,
    UserRepository,
)
from taskapp.domain.ports.records import DownloadLog, ReviewStore
from taskapp.domain.ports.system import (
    Clock,
    PasswordHasher,
    Positions,
    RateLimiter,
    TokenService,
)
from taskapp.domain.ports.tasks import (
    Gap,
    HistoryLog,
    HistoryReads,
    IdempotencyKeys,
    IdempotencyRecords,
    LabelReads,
    ListReads,
    ListRepository,
    PlacementReads,
    Siblings,
    StatsReads,
    TaskBatch,
    TaskReads,
    TaskRepository,
    TasksUnitOfWork,
    TasksUnitOfWorkFactory,
)
from taskapp.domain.ports.unit_of_work import UnitOfWork

__all__ = [
    "AccountReads",
    "AccountsUnitOfWork",
    "AccountsUnitOfWorkFactory",
    "Clock",
    "DownloadLog",
    "Gap",
    "HistoryLog",
    "HistoryReads",
    "IdempotencyKeys",
    "IdempotencyRecords",
    "LabelReads",
    "ListReads",
    "ListRepository",
    "PasswordHasher",
    "PlacementReads",
    "Positions",
    "RateLimiter",
    "RefreshTokenRepository",
    "ReviewStore",
    "Siblings",
    "StatsReads",
    "TaskBatch",
    "TaskReads",
    "TaskRepository",
    "TasksUnitOfWork",
    "TasksUnitOfWorkFactory",
    "TokenService",
    "UnitOfWork",
    "UserRepository",
]
