"""The request edge (issue 13): parameters read exactly as the contract states them."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from taskapp.entrypoints.http.preconditions import matching_versions
from taskapp.entrypoints.http.proxies import TrustedProxies
from tests.api.helpers import Client, assert_error, signed_in

TASKS = "/api/v1/tasks"


def assert_field_error(response: Any, field: str) -> None:
    body = assert_error(response, 422, "VALIDATION_ERROR")
    assert field in [detail["field"] for detail in body["error"]["details"]], body


async def _task(client: Client, me: dict[str, str]) -> dict[str, Any]:
    created = await client.post(TASKS, json={"title": "edge"}, headers=me)
    assert created.status_code == 201
    data: dict[str, Any] = created.json()["data"]
    return data


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PUT", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("PATCH", "/complete"),
        ("PATCH", "/incomplete"),
        ("PATCH", "/toggle"),
    ],
)
async def test_a_trailing_newline_in_a_task_id_is_422(
    client: Client, method: str, suffix: str
) -> None:
    me = await signed_in(client)
    task = await _task(client, me)
    body = {"title": "x"} if method in {"PUT", "PATCH"} and not suffix else None
    response = await client.request(
        method, f"{TASKS}/{task['id']}%0A{suffix}", json=body, headers=me
    )
    assert_field_error(response, "task_id")


@pytest.mark.parametrize("name", ["task_id", "as_of"])
@pytest.mark.parametrize("tail", ["\n", "\r\n", "\x00", " "])
async def test_a_trailing_character_in_a_history_id_is_422(
    client: Client, name: str, tail: str
) -> None:
    me = await signed_in(client)
    response = await client.get(
        "/api/v1/history", params={name: str(uuid.uuid4()) + tail}, headers=me
    )
    assert_field_error(response, name)


async def test_every_documented_pattern_matches_whole_values_only(client: Client) -> None:
    """Python's `$` matches before a final newline; no pattern may rely on it."""
    document = (await client.get("/schema/openapi.json")).json()
    patterns: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert patterns
    for pattern in patterns:
        assert pattern.endswith(r"$(?!\n)"), pattern
        assert re.search(pattern, "x\n") is None or re.search(pattern, "x") is not None


@pytest.mark.parametrize(
    "value", ["1e3", "1.0", "1E1", "+1", " 1", "1 ", "0x1", "1_0", "007", "\u0661", ""]
)
@pytest.mark.parametrize("name", ["page", "limit", "offset"])
async def test_integer_query_parameters_take_decimal_digits_only(
    client: Client, name: str, value: str
) -> None:
    me = await signed_in(client)
    for path in (TASKS, "/api/v1/history"):
        response = await client.get(path, params={name: value}, headers=me)
        assert_field_error(response, name)


async def test_integer_query_parameters_still_check_their_range(client: Client) -> None:
    me = await signed_in(client)
    assert_field_error(await client.get(TASKS, params={"page": "-1"}, headers=me), "page")
    assert_field_error(await client.get(TASKS, params={"page": "9" * 30}, headers=me), "page")
    assert (await client.get(TASKS, params={"page": "7", "limit": "5"}, headers=me)).is_success


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"1"', True),
        ('"2", "1"', True),
        ('"1" , W/"9"', True),
        ("*", True),
        ('W/"1"', False),
        ('"01"', False),
        ('""1""', False),
        ("1", False),
        ('"1', False),
        ('"1";"1"', False),
        ('"2", "3"', False),
        ("", False),
        ('*, "1"', False),
    ],
)
async def test_if_match_compares_strongly_and_reads_lists(
    client: Client, header: str, matches: bool
) -> None:
    me = await signed_in(client)
    task = await _task(client, me)
    response = await client.patch(
        f"{TASKS}/{task['id']}/toggle", headers={**me, "If-Match": header}
    )
    if matches:
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
    else:
        assert_error(response, 412, "VERSION_CONFLICT")


async def test_if_match_star_still_needs_an_existing_task(client: Client) -> None:
    me = await signed_in(client)
    response = await client.patch(f"{TASKS}/{uuid.uuid4()}/toggle", headers={**me, "If-Match": "*"})
    assert_error(response, 404, "TASK_NOT_FOUND")
    listed = await client.delete(f"{TASKS}/{uuid.uuid4()}", headers={**me, "If-Match": '"1", "2"'})
    assert_error(listed, 404, "TASK_NOT_FOUND")


def test_if_match_parsing() -> None:
    assert matching_versions("*") is None
    assert matching_versions('"3", W/"4",, "5"') == {3, 5}
    assert matching_versions('"3" "4"') == frozenset()


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "/etc/localtime"])
async def test_only_real_time_zones_are_accepted(client: Client, zone: str) -> None:
    me = await signed_in(client)
    response = await client.get("/api/v1/stats/weekly", params={"tz": zone}, headers=me)
    assert_field_error(response, "tz")


@pytest.mark.parametrize(
    ("day", "zone"),
    [("0001-01-01", "Asia/Tokyo"), ("9999-12-31", "UTC"), ("9999-12-27", "America/Los_Angeles")],
)
async def test_a_week_beyond_the_calendar_is_422_naming_the_date(
    client: Client, day: str, zone: str
) -> None:
    me = await signed_in(client)
    response = await client.get(
        "/api/v1/stats/weekly", params={"date": day, "tz": zone}, headers=me
    )
    assert_field_error(response, "date")


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    nobody = TrustedProxies(())
    assert nobody.client_address("127.0.0.1", ["198.51.100.7"]) == "127.0.0.1"
    proxy = TrustedProxies(("10.0.0.0/8",))
    assert proxy.client_address("10.1.2.3", ["198.51.100.7"]) == "198.51.100.7"
    # The client's own header comes first; the proxy appended the real address after it.
    assert proxy.client_address("10.1.2.3", ["6.6.6.6, 198.51.100.7"]) == "198.51.100.7"
    assert proxy.client_address("10.1.2.3", ["198.51.100.7, 10.0.0.9"]) == "198.51.100.7"
    assert proxy.client_address("10.1.2.3", ["6.6.6.6", "198.51.100.7"]) == "198.51.100.7"
    assert proxy.client_address("10.1.2.3", ["10.0.0.8, 10.0.0.9"]) == "10.0.0.8"
    assert proxy.client_address("10.1.2.3", ["not-an-ip"]) == "10.1.2.3"
    assert proxy.client_address("10.1.2.3", ["1.2.3.4, " + "9" * 5000]) == "10.1.2.3"
    assert proxy.client_address("10.1.2.3", ["::ffff:198.51.100.7"]) == "198.51.100.7"
    assert proxy.client_address("10.1.2.3", []) == "10.1.2.3"
    assert proxy.client_address("192.0.2.1", ["198.51.100.7"]) == "192.0.2.1"
    assert TrustedProxies(("*",)).client_address("192.0.2.1", ["1.1.1.1, 2.2.2.2"]) == "1.1.1.1"
