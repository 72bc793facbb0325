"""Liveness and readiness probes (no envelope, no auth)."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State

from taskapp.bootstrap import Container
from taskapp.entrypoints.http.scopes import Access


@get(
    "/health/live",
    operation_id="checkLiveness",
    include_in_schema=True,
    tags=["operations"],
    sync_to_thread=False,
    scope=Access.PUBLIC,
)
def live() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


@get("/health/ready", tags=["operations"], scope=Access.PUBLIC, operation_id="checkReadiness")
async def ready(state: State) -> Response[dict[str, str]]:
    """200 when the database answers and its schema is at the latest migration, else 503."""
    container: Container = state.container
    problem = await container.readiness_problem()
    if problem is None:
        return Response({"status": "ok"})
    return Response(
        {"status": "unavailable", "reason": problem}, status_code=503, headers={"Retry-After": "5"}
    )
