"""The webhook sender's SSRF defence against a real receiver on 127.0.0.1: a host that
resolved to a public address when saved and to a private one at delivery (DNS rebinding)
is refused without a single connection; the connection goes to the address checked, with
the URL's own `Host`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from taskapp.adapters.webhook_http import HttpWebhookTargets
from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.webhooks import TargetUrl
from tests.support.webhook_receiver import running_receiver


class Rebinding:
    """Answers a public address first, then the loopback one."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        answer = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return answer


async def test_dns_rebinding_is_refused_without_a_packet() -> None:
    with running_receiver() as receiver:
        url = f"https://hooks.example.com:{receiver.port}/hook"
        resolver = Rebinding(["93.184.216.34"], ["127.0.0.1"])
        targets = HttpWebhookTargets(resolver=resolver, timeout=timedelta(seconds=2))
        await targets.check(TargetUrl.parse(url, allow_http=False))  # public when saved
        result = await targets.send(url, {}, b"{}")
        await targets.close()
        assert result.status is None
        assert result.error is not None
        assert "127.0.0.1" in result.error
        assert receiver.connections == 0
        assert receiver.received == []


@pytest.mark.parametrize(
    "answer", [["93.184.216.34", "10.0.0.7"], ["169.254.169.254"], ["::ffff:127.0.0.1"], []]
)
async def test_any_private_answer_refuses_the_target(answer: list[str]) -> None:
    targets = HttpWebhookTargets(resolver=Rebinding(answer))
    with pytest.raises(ValidationFailed) as refused:
        await targets.check(TargetUrl.parse("https://hooks.example.com/x", allow_http=False))
    assert refused.value.details[0].field == "url"
    result = await targets.send("https://hooks.example.com/x", {}, b"{}")
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith("refused")


async def test_the_connection_goes_to_the_checked_address_with_the_urls_host() -> None:
    with running_receiver() as receiver:
        url = f"http://hooks.test:{receiver.port}/hook"
        targets = HttpWebhookTargets(allow_private=True, resolver=Rebinding(["127.0.0.1"]))
        result = await targets.send(url, {"webhook-id": "m1"}, b'{"a":1}')
        await targets.close()
    assert result.status == 200
    (request,) = receiver.received
    assert request.headers["host"] == f"hooks.test:{receiver.port}"
    assert request.body == b'{"a":1}'
    assert request.headers["user-agent"] == "taskapp-webhooks/1"


async def test_plain_http_needs_private_targets_allowed() -> None:
    targets = HttpWebhookTargets(resolver=Rebinding(["93.184.216.34"]))
    result = await targets.send("http://hooks.example.com/x", {}, b"{}")
    assert result.status is None
    assert result.error is not None
    assert "https" in result.error


async def test_a_resolver_that_never_answers_costs_one_timeout() -> None:
    """The host's lookup counts against the attempt's timeout: a silent DNS server must
    not hold the delivery (and its webhook's place in the loop) any longer."""

    async def silent(host: str, port: int) -> list[str]:
        await asyncio.sleep(3600)
        return []

    targets = HttpWebhookTargets(resolver=silent, timeout=timedelta(seconds=0.3))
    started = asyncio.get_running_loop().time()
    result = await targets.send("https://hooks.example.com/x", {}, b"{}")
    assert asyncio.get_running_loop().time() - started < 2
    assert result.status is None
    assert result.error == "no answer within 0.3 s"
