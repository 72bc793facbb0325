"""/api/v1/webhooks through the real app (no delivery loop runs here: the app is given its
container): create with the secret shown once, list, get, update, delete, the ping, the
delivery log, the per-user limit, isolation, scopes, and every refused target."""

from __future__ import annotations

import typing
import uuid
from typing import Any

import pytest

from taskapp.domain.model.webhooks import EVENT_NAMES, WEBHOOKS_PER_USER
from taskapp.entrypoints.http.webhooks import EventName
from tests.api.helpers import Client, assert_error, signed_in

WEBHOOKS = "/api/v1/webhooks"
# A documentation address (RFC 5737 TEST-NET-3 is not global, so not this): a public
# address no test ever sends to — no delivery loop runs in these tests, and every webhook
# made with it is deleted before its user changes anything.
PUBLIC = "https://93.184.216.34/hooks/taskapp"


async def create(client: Client, user: dict[str, str], **body: Any) -> Any:
    payload = {"url": PUBLIC, "events": ["*"], **body}
    return await client.post(WEBHOOKS, json=payload, headers=user)


def test_the_event_names_of_the_document_are_the_domains() -> None:
    assert set(typing.get_args(EventName)) == set(EVENT_NAMES)


async def test_create_shows_the_secret_once(client: Client, me: dict[str, str]) -> None:
    created = await create(client, me, events=["task.*", "list.created"], description=" CI ")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["popup"] == "WEBHOOK_CREATED"
    hook = body["data"]
    assert hook["secret"].startswith("whsec_")
    assert hook["url"] == PUBLIC
    assert hook["events"] == ["list.created", "task.*"]
    assert hook["description"] == "CI"
    assert hook["status"] == "active"
    assert hook["disabled_reason"] is None
    assert hook["last_delivery"] is None
    one = await client.get(f"{WEBHOOKS}/{hook['id']}", headers=me)
    assert one.status_code == 200
    assert "secret" not in one.json()["data"]
    listed = await client.get(WEBHOOKS, headers=me)
    assert [item["id"] for item in listed.json()["data"]["items"]] == [hook["id"]]
    assert "secret" not in listed.json()["data"]["items"][0]
    gone = await client.delete(f"{WEBHOOKS}/{hook['id']}", headers=me)
    assert gone.status_code == 200
    assert gone.json()["popup"] == "WEBHOOK_DELETED"
    assert_error(await client.get(f"{WEBHOOKS}/{hook['id']}", headers=me), 404, "WEBHOOK_NOT_FOUND")


async def test_update_changes_only_what_is_given(client: Client, me: dict[str, str]) -> None:
    hook = (await create(client, me, description="first")).json()["data"]
    url = f"{WEBHOOKS}/{hook['id']}"
    changed = await client.patch(url, json={"events": ["task.completed"]}, headers=me)
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert data["events"] == ["task.completed"]
    assert data["description"] == "first"
    assert data["url"] == PUBLIC
    assert data["updated_at"] >= hook["updated_at"]
    active = await client.patch(url, json={"status": "active"}, headers=me)
    assert active.json()["data"]["status"] == "active"
    for bad in (
        {"status": "disabled"},
        {"events": []},
        {"url": "http://93.184.216.34/"},
        {"id": 1},
    ):
        assert_error(await client.patch(url, json=bad, headers=me), 422, "VALIDATION_ERROR")
    await client.delete(url, headers=me)


async def test_someone_elses_webhook_is_not_found(
    client: Client, me: dict[str, str], other: dict[str, str]
) -> None:
    hook = (await create(client, me)).json()["data"]
    url = f"{WEBHOOKS}/{hook['id']}"
    assert_error(await client.get(url, headers=other), 404, "WEBHOOK_NOT_FOUND")
    assert_error(await client.patch(url, json={}, headers=other), 404, "WEBHOOK_NOT_FOUND")
    assert_error(await client.delete(url, headers=other), 404, "WEBHOOK_NOT_FOUND")
    assert_error(await client.post(f"{url}/test", headers=other), 404, "WEBHOOK_NOT_FOUND")
    assert_error(await client.get(f"{url}/deliveries", headers=other), 404, "WEBHOOK_NOT_FOUND")
    missing = f"{WEBHOOKS}/{uuid.uuid4()}"
    assert_error(await client.get(missing, headers=me), 404, "WEBHOOK_NOT_FOUND")
    assert (await client.get(WEBHOOKS, headers=other)).json()["data"]["items"] == []
    assert_error(await client.get(f"{WEBHOOKS}/not-a-uuid", headers=me), 422, "VALIDATION_ERROR")
    await client.delete(url, headers=me)


async def test_at_most_ten_webhooks_per_user(client: Client, me: dict[str, str]) -> None:
    made = [(await create(client, me)).json()["data"]["id"] for _ in range(WEBHOOKS_PER_USER)]
    assert_error(await create(client, me), 409, "LIMIT_REACHED")
    await client.delete(f"{WEBHOOKS}/{made[0]}", headers=me)
    again = await create(client, me)
    assert again.status_code == 201
    for hook_id in [*made[1:], again.json()["data"]["id"]]:
        await client.delete(f"{WEBHOOKS}/{hook_id}", headers=me)


async def test_a_ping_is_queued_in_the_delivery_log(client: Client, me: dict[str, str]) -> None:
    hook = (await create(client, me)).json()["data"]
    url = f"{WEBHOOKS}/{hook['id']}"
    assert (await client.get(f"{url}/deliveries", headers=me)).json()["data"]["items"] == []
    ping = await client.post(f"{url}/test", headers=me)
    assert ping.status_code == 202, ping.text
    assert ping.json()["popup"] == "WEBHOOK_PING_QUEUED"
    log = (await client.get(f"{url}/deliveries", headers=me)).json()["data"]
    assert log["total"] == 1
    (entry,) = log["items"]
    assert entry["id"] == ping.json()["data"]["delivery_id"]
    assert entry["event"] == "ping"
    assert entry["status"] == "pending"
    assert entry["attempts"] == 0
    assert entry["next_attempt_at"] is not None
    assert isinstance(entry["cursor"], str)
    await client.delete(url, headers=me)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://[64:ff9b::a00:1]/hook",
        "https://2130706433/hook",
        "https://0x7f.0.0.1/hook",
        "https://224.0.0.1/hook",
        "https://nonexistent.invalid/hook",
        "http://93.184.216.34/hook",
        "ftp://93.184.216.34/hook",
        "https://user:pass@93.184.216.34/hook",
        "https://93.184.216.34/hook#fragment",
        "https:///hook",
        "93.184.216.34/hook",
        "https://93.184.216.34/ho ok",
        "https://93.184.216.34/hook\n",
        "https://93.184.216.34:99999/hook",
        "https://" + "a" * 2100 + ".com/",
    ],
)
async def test_targets_that_are_not_public_https_are_refused(
    client: Client, me: dict[str, str], url: str
) -> None:
    body = assert_error(await create(client, me, url=url), 422, "VALIDATION_ERROR")
    assert body["error"]["details"][0]["field"] == "url"


@pytest.mark.parametrize(
    "body",
    [
        {"url": PUBLIC, "events": []},
        {"url": PUBLIC, "events": ["task.exploded"]},
        {"url": PUBLIC, "events": ["task"]},
        {"url": PUBLIC},
        {"events": ["*"]},
        {"url": PUBLIC, "events": ["*"], "secret": "whsec_mine"},
        {"url": PUBLIC, "events": ["*"], "description": "x" * 501},
        {"url": PUBLIC, "events": ["*"], "description": "nul\x00"},
        {"url": 5, "events": ["*"]},
    ],
)
async def test_bad_bodies_are_422(client: Client, me: dict[str, str], body: Any) -> None:
    response = await client.post(WEBHOOKS, json=body, headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_an_api_token_needs_the_webhooks_scope(client: Client, me: dict[str, str]) -> None:
    made = await client.post(
        "/api/v1/auth/tokens", json={"name": "ci", "scopes": ["tasks:read"]}, headers=me
    )
    token = {"Authorization": f"Bearer {made.json()['data']['token']}"}
    refused = await client.get(WEBHOOKS, headers=token)
    assert_error(refused, 403, "INSUFFICIENT_SCOPE")
    assert 'scope="webhooks:manage"' in refused.headers["www-authenticate"]
    allowed = await client.post(
        "/api/v1/auth/tokens", json={"name": "hooks", "scopes": ["webhooks:manage"]}, headers=me
    )
    manager = {"Authorization": f"Bearer {allowed.json()['data']['token']}"}
    assert (await client.get(WEBHOOKS, headers=manager)).status_code == 200


async def test_signing_in_is_required(client: Client) -> None:
    assert_error(await client.get(WEBHOOKS), 401, "UNAUTHORIZED")
    other = await signed_in(client)
    assert (await client.get(WEBHOOKS, headers=other)).json()["data"]["items"] == []
