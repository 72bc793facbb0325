"""/reviews: one per user, strict validation, concurrency and the summary maths."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.api.helpers import Client, assert_error, signed_in

REVIEWS = "/api/v1/reviews"


async def test_first_submit_creates_then_updates(client: Client, me: dict[str, str]) -> None:
    first = await client.post(REVIEWS, json={"rating": 4, "comment": "Nice"}, headers=me)
    assert first.status_code == 201
    assert first.json()["popup"] == "REVIEW_SUBMITTED"
    review = first.json()["data"]
    assert set(review) == {"id", "rating", "comment", "created_at", "updated_at"}
    second = await client.post(REVIEWS, json={"rating": 5}, headers=me)
    assert second.status_code == 200
    assert second.json()["popup"] == "REVIEW_UPDATED"
    updated = second.json()["data"]
    assert updated["id"] == review["id"]
    assert (updated["rating"], updated["comment"]) == (5, None)
    assert updated["created_at"] == review["created_at"]
    mine = await client.get(f"{REVIEWS}/me", headers=me)
    assert mine.json()["data"] == updated


async def test_no_review_yet_is_404(client: Client, me: dict[str, str]) -> None:
    assert_error(await client.get(f"{REVIEWS}/me", headers=me), 404, "REVIEW_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": 3.5},
        {"rating": "5"},
        {"rating": True},
        {"rating": None},
        {},
        {"rating": 3, "comment": "x" * 2001},
        {"rating": 3, "comment": 7},
        {"rating": 3, "comment": "nul\x00"},
        {"rating": 3, "user_id": "x"},
    ],
)
async def test_validation(client: Client, me: dict[str, str], body: dict[str, Any]) -> None:
    assert_error(await client.post(REVIEWS, json=body, headers=me), 422, "VALIDATION_ERROR")
    assert_error(await client.get(f"{REVIEWS}/me", headers=me), 404, "REVIEW_NOT_FOUND")


async def test_an_integral_float_is_an_integer(client: Client, me: dict[str, str]) -> None:
    """JSON Schema (and so our OpenAPI document) counts 5.0 as the integer 5."""
    response = await client.post(REVIEWS, json={"rating": 5.0}, headers=me)
    assert response.status_code == 201
    assert response.json()["data"]["rating"] == 5


async def test_comment_bounds(client: Client, me: dict[str, str]) -> None:
    response = await client.post(REVIEWS, json={"rating": 1, "comment": "x" * 2000}, headers=me)
    assert response.status_code == 201
    response = await client.post(REVIEWS, json={"rating": 1, "comment": ""}, headers=me)
    assert response.json()["data"]["comment"] is None


async def test_concurrent_submissions_leave_one_review(client: Client, me: dict[str, str]) -> None:
    responses = await asyncio.gather(
        *(client.post(REVIEWS, json={"rating": n % 5 + 1}, headers=me) for n in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 7 + [201]
    summary = (await client.get(f"{REVIEWS}/summary", headers=me)).json()["data"]
    assert summary["count"] == 1


async def test_summary_maths(client: Client) -> None:
    users = [await signed_in(client) for _ in range(6)]
    empty = (await client.get(f"{REVIEWS}/summary", headers=users[0])).json()["data"]
    assert empty == {
        "count": 0,
        "average_rating": 0.0,
        "distribution": {str(n): 0 for n in range(1, 6)},
    }
    for headers, rating in zip(users, [5, 5, 4, 1, 2, 5], strict=True):
        assert (
            await client.post(REVIEWS, json={"rating": rating}, headers=headers)
        ).status_code == 201
    summary = (await client.get(f"{REVIEWS}/summary", headers=users[0])).json()["data"]
    assert summary["count"] == 6
    assert summary["average_rating"] == 3.67  # 22 / 6 = 3.666..., rounded half up
    assert summary["distribution"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 3}


async def test_reviews_need_a_token(client: Client) -> None:
    for method, path in (
        ("POST", REVIEWS),
        ("GET", f"{REVIEWS}/me"),
        ("GET", f"{REVIEWS}/summary"),
    ):
        assert_error(await client.request(method, path, json={"rating": 3}), 401, "UNAUTHORIZED")
