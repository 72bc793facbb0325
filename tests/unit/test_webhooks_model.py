"""The webhook rules of the domain: event selection, target form, public addresses, the
Standard Webhooks signature (checked with its reference verifier), the retry policy."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as Verifier

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.sync import EventType
from taskapp.domain.model.webhooks import (
    ClaimedDelivery,
    DeliveryStatus,
    RetryPolicy,
    SendResult,
    TargetUrl,
    is_public_address,
    new_secret,
    parse_events,
    selects,
    sign,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_selection_by_name_group_and_all() -> None:
    assert selects(parse_events(["*"]), EventType.LIST_MOVED)
    assert selects(parse_events(["task.*"]), EventType.TASK_DELETED)
    assert not selects(parse_events(["task.*"]), EventType.LIST_CREATED)
    assert selects(parse_events(["list.created"]), EventType.LIST_CREATED)
    assert not selects(parse_events(["list.created"]), EventType.LIST_UPDATED)
    for bad in ([], ["task"], ["*.*"], ["task.created "], ["ping"]):
        with pytest.raises(ValidationFailed):
            parse_events(bad)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address under test, not a binding
        ("255.255.255.255", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fd00:ec2::254", False),
        ("fe80::1%eth0", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.216.34", True),
        ("2002:a00:1::", False),  # 6to4 around 10.0.0.1
        ("64:ff9b::7f00:1", False),  # NAT64 around 127.0.0.1
        ("not an address", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_target_form() -> None:
    target = TargetUrl.parse("https://hooks.example.com:8443/in?x=1", allow_http=False)
    assert (target.host, target.port, target.secure) == ("hooks.example.com", 8443, True)
    assert TargetUrl.parse("http://127.0.0.1:9/h", allow_http=True).port == 9
    for bad in ("http://a.example/", "https://u:p@a.example/", "https://a.example/#f", "//a/"):
        with pytest.raises(ValidationFailed):
            TargetUrl.parse(bad, allow_http=False)


@given(st.text(max_size=512), st.integers(min_value=0, max_value=4_000_000_000))
def test_signatures_match_the_reference_library(text: str, timestamp: int) -> None:
    secret = new_secret()
    message_id = str(uuid4())
    ours = sign(secret, message_id, timestamp, text.encode())
    theirs = Verifier(secret).sign(message_id, datetime.fromtimestamp(timestamp, UTC), text)
    assert ours == theirs


def test_a_signature_verifies_with_the_reference_verifier() -> None:
    secret = new_secret()
    body = b'{"type":"ping","timestamp":"2026-11-22T12:00:00Z","data":{},"cursor":"c"}'
    now = int(datetime.now(UTC).timestamp())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": sign(secret, "msg_1", now, body),
    }
    assert Verifier(secret).verify(body, headers)["type"] == "ping"
    with pytest.raises(Exception, match=r"(?i)signature"):
        Verifier(new_secret()).verify(body, headers)


def _claimed(attempts: int, age: timedelta) -> ClaimedDelivery:
    return ClaimedDelivery(
        uuid4(), uuid4(), "https://a.example/", new_secret(), b"{}", attempts, NOW - age
    )


def test_outcomes() -> None:
    policy = RetryPolicy()
    ok = policy.outcome(_claimed(1, timedelta()), SendResult(204), NOW)
    assert ok.status is DeliveryStatus.DELIVERED
    assert ok.next_attempt_at is None
    retry = policy.outcome(_claimed(1, timedelta()), SendResult(500), NOW)
    assert retry.status is DeliveryStatus.PENDING
    assert retry.error == "HTTP 500"
    assert retry.next_attempt_at is not None
    assert NOW + timedelta(seconds=2.5) <= retry.next_attempt_at <= NOW + timedelta(seconds=5)
    late = policy.outcome(_claimed(30, timedelta(hours=23, minutes=59)), SendResult(None, "x"), NOW)
    assert late.status is DeliveryStatus.FAILED
    assert "24 hours" in policy.disabled_reason(late)


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=2**32))
def test_delays_double_up_to_an_hour_with_jitter(attempts: int, seed: int) -> None:
    policy = RetryPolicy()
    ceiling = min(timedelta(seconds=5) * 2 ** min(attempts - 1, 20), timedelta(hours=1))
    delay = policy.delay(attempts, random.Random(seed))
    assert ceiling / 2 <= delay <= ceiling
