"""Examples for the OpenAPI document: realistic values a frontend developer recognises.

Request bodies have hand-written examples (they are what people copy). Every other
example is built from its schema, field by field, from `FIELD_VALUES` (by field name) and
then by type and format, so a new response struct gets a readable example without an
entry here. tests/api/test_openapi_rules.py checks that every example fits its schema.
"""

from __future__ import annotations

from typing import Any

from taskapp.domain import errors as domain_errors

TASK_ID = "7f6c2a8e-3b1d-4c5e-9a2f-1d8e4b6c0a93"
LIST_ID = "2b9d4f1a-6c3e-4a8b-b5d7-0e1f2a3b4c5d"
PARENT_ID = "c4e8a1b2-9d3f-4e6a-8b7c-5d2e1f0a9b8c"
USER_ID = "5a1e2d3c-4b6f-4a8e-9c0d-1e2f3a4b5c6d"
TOKEN_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"  # noqa: S105 - an id, not a secret
ENTRY_ID = "0d1c2b3a-4f5e-4d6c-9b8a-7f6e5d4c3b2a"
MOMENT = "2026-11-22T09:30:00Z"
REQUEST_ID = "4f3c1a9e2b7d4c8a"

# Response fields, by name: what a real answer would hold.
FIELD_VALUES: dict[str, Any] = {
    "id": TASK_ID,
    "task_id": TASK_ID,
    "list_id": LIST_ID,
    "parent_id": None,
    "user_id": USER_ID,
    "title": "Buy oat milk",
    "task_title": "Buy oat milk",
    "description": "The barista one, two cartons",
    "name": "Groceries",
    "list_name": "Groceries",
    "color": "#3B82F6",
    "position": "a0",
    "email": "ada@example.com",
    "display_name": "Ada",
    "is_completed": False,
    "completed_at": None,
    "due_date": "2026-11-27",
    "due_at": None,
    "priority": "high",
    "labels": ["errands"],
    "version": 3,
    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI1YTFlMmQzYyJ9.c2lnbmF0dXJl",
    "refresh_token": "rt_8Jq2vN4xK7pL0sT5wY9zB3cF6hM1nR",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_expires_in": 2592000,
    "token": "tat_3kP9sV2xQ7mL4nB8cF1hJ6tW0yR5dZ",
    "scopes": ["tasks:read", "stats:read"],
    "expires_at": "2027-02-20T09:30:00Z",
    "last_used_at": None,
    "ticket": "tkt_Q2w8E4r6T1y3U5i7O9p0",
    "cursor": "c1.eyJ1IjoiNWExZSIsInMiOjQyfQ",
    "has_more": False,
    "deleted_task_ids": [],
    "deleted_list_ids": [],
    "open_count": 4,
    "completed_count": 7,
    "task_count": 5,
    "tasks_changed": 5,
    "created": 12,
    "lists_created": 2,
    "item_count": 42,
    "format": "csv",
    "rating": 5,
    "comment": "Does exactly what my team needs",
    "count": 128,
    "average_rating": 4.36,
    "distribution": {"1": 3, "2": 5, "3": 9, "4": 38, "5": 73},
    "action_type": "COMPLETED",
    "timestamp": MOMENT,
    "changes": {"is_completed": {"from": "false", "to": "true"}},
    "week_start": "2026-11-16T00:00:00+01:00",
    "week_end": "2026-11-23T00:00:00+01:00",
    "timezone": "Europe/Berlin",
    "tasks_created_this_week": 9,
    "tasks_completed_this_week": 6,
    "total_completed": 41,
    "total_incomplete": 17,
    "overdue": 2,
    "due_this_week": 5,
    "page": 1,
    "limit": 20,
    "total": 1,
    "total_pages": 1,
    "request_id": REQUEST_ID,
    "url": "https://hooks.example.com/taskapp",
    "events": ["task.*", "list.created"],
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "disabled_reason": None,
    "event": "task.completed",
    "attempts": 1,
    "response_status": 200,
    "last_error": None,
    "next_attempt_at": None,
    "delivery_id": ENTRY_ID,
    "webhook_id": TOKEN_ID,
    "at": MOMENT,
}

# Request bodies, by component name: what a client would send.
REQUEST_BODIES: dict[str, Any] = {
    "RegisterRequest": {
        "email": "ada@example.com",
        "password": "correct horse battery staple",
        "display_name": "Ada",
    },
    "LoginRequest": {"email": "ada@example.com", "password": "correct horse battery staple"},
    "RefreshRequest": {"refresh_token": FIELD_VALUES["refresh_token"]},
    "ChangePasswordRequest": {
        "current_password": "correct horse battery staple",
        "new_password": "a longer and even better passphrase",
    },
    "TokenCreate": {
        "name": "nightly report",
        "scopes": ["tasks:read", "stats:read"],
        "expires_in_days": 90,
    },
    "TaskCreate": {
        "title": "Buy oat milk",
        "description": "The barista one, two cartons",
        "list_id": LIST_ID,
        "due_date": "2026-11-27",
        "priority": "high",
        "labels": ["errands"],
    },
    "TaskPatch": {"title": "Buy oat milk and coffee", "priority": "medium"},
    "TaskMove": {"list_id": LIST_ID, "after_id": PARENT_ID},
    "ListCreate": {"name": "Groceries", "color": "#3B82F6"},
    "ListPatch": {"name": "Weekly groceries"},
    "ListMove": {"after_id": LIST_ID},
    "LabelRename": {"name": "shopping"},
    "WebhookCreate": {
        "url": "https://hooks.example.com/taskapp",
        "events": ["task.*", "list.created"],
        "description": "Posts finished tasks to the team channel",
    },
    "WebhookUpdate": {"events": ["task.completed"], "status": "active"},
    "ReviewIn": {"rating": 5, "comment": "Does exactly what my team needs"},
    "ImportItem": {
        "title": "Buy oat milk",
        "list_name": "Groceries",
        "due_date": "2026-11-27",
        "priority": "high",
        "labels": ["errands"],
    },
}

_FORMAT_VALUES = {"date-time": MOMENT, "date": "2026-11-27", "uuid": TASK_ID}


def domain_messages() -> dict[str, str]:
    """Each domain error code's default message, for error examples."""
    found: dict[str, str] = {}
    pending: list[type[domain_errors.DomainError]] = [domain_errors.DomainError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        found.setdefault(kind.code, kind.default_message)
    return found


def example_of(schema: Any, components: dict[str, Any], name: str | None = None) -> Any:
    """A realistic value for `schema` (`name`: the property it is for, if any)."""
    if not isinstance(schema, dict):
        return None
    if name is not None and name in FIELD_VALUES:
        return FIELD_VALUES[name]
    if "$ref" in schema:
        target = schema["$ref"].rsplit("/", 1)[-1]
        if target in REQUEST_BODIES:
            return REQUEST_BODIES[target]
        return example_of(components.get(target), components, name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            variants = [v for v in schema[key] if v.get("type") != "null"]
            return example_of(variants[0], components, name) if variants else None
    if "allOf" in schema:
        return example_of(schema["allOf"][0], components, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            prop: example_of(sub, components, prop)
            for prop, sub in (schema.get("properties") or {}).items()
        }
    if kind == "array":
        return [example_of(schema.get("items"), components, None)]
    if kind == "string":
        return _FORMAT_VALUES.get(schema.get("format", ""), "example")
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 4.5
    if kind == "boolean":
        return False
    return None
