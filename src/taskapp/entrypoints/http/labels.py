"""/api/v1/labels: the labels a user's tasks carry; rename or remove one everywhere."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch
from litestar.params import PathParameter

from taskapp.domain.model import LabelUsage
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import CurrentUserId, Labels
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import Label
from taskapp.entrypoints.http.openapi import BEARER, answers, documents_body
from taskapp.entrypoints.http.scopes import Scope

LabelName = Annotated[
    str, PathParameter(min_length=1, max_length=200, description="the label (any letter case)")
]


class LabelRename(msgspec.Struct, forbid_unknown_fields=True):
    name: Label


class LabelOut(msgspec.Struct):
    name: str
    open_count: int
    task_count: int

    @classmethod
    def of(cls, usage: LabelUsage) -> LabelOut:
        return cls(usage.name, usage.open_count, usage.task_count)


class LabelsOut(msgspec.Struct):
    items: list[LabelOut]


class LabelChangedOut(msgspec.Struct):
    name: str
    tasks_changed: int


class LabelController(Controller):
    path = "/labels"
    tags = ["labels"]
    security = BEARER

    @get("/", scope=Scope.TASKS_READ)
    async def list_labels(
        self, labels: Labels, user_id: CurrentUserId
    ) -> Response[Envelope[LabelsOut]]:
        """Every label the caller's tasks carry, by name, with counts."""
        usage = await labels.usage(user_id)
        return ok(LabelsOut([LabelOut.of(u) for u in usage]))

    @patch(
        "/{name:str}",
        scope=Scope.TASKS_WRITE,
        opt=documents_body(
            LabelRename, errors=("LABEL_NOT_FOUND", "CONFLICT"), popups=("LABEL_RENAMED",)
        ),
    )
    async def rename_label(
        self,
        request: Request[Any, Any, Any],
        labels: Labels,
        user_id: CurrentUserId,
        name: LabelName,
    ) -> Response[Envelope[LabelChangedOut]]:
        """Rename on every task (merging into an existing label of that name); each
        changed task gets a new version and an UPDATED history entry."""
        body = await read_json(request, LabelRename)
        changed = await labels.rename(user_id, name, body.name)
        return ok(LabelChangedOut(body.name.strip(), changed), popup="LABEL_RENAMED")

    @delete(
        "/{name:str}",
        status_code=200,
        scope=Scope.TASKS_WRITE,
        opt=answers("LABEL_DELETED", errors=("LABEL_NOT_FOUND", "CONFLICT")),
    )
    async def delete_label(
        self, labels: Labels, user_id: CurrentUserId, name: LabelName
    ) -> Response[Envelope[LabelChangedOut]]:
        """Remove from every task that carries it."""
        changed = await labels.delete(user_id, name)
        return ok(LabelChangedOut(name, changed), popup="LABEL_DELETED")
