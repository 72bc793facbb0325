"""Webhook targets over HTTP(S): the SSRF checks, and sending one delivery.

A target's host is resolved and every address it gives must be public (not loopback,
private, link-local — cloud metadata — shared, reserved or multicast); at delivery the
host is resolved again and the connection goes to the address just checked, never to a
second lookup's answer (DNS rebinding), with the TLS server name and `Host` of the URL.
No proxy from the environment, no redirects, one timeout for the whole exchange, and at
most RESPONSE_READ_LIMIT bytes of the answer read. `WEBHOOK_ALLOW_PRIVATE_TARGETS=true`
(development and tests) lifts the address rule and allows plain `http`.

httpx does the HTTP: a well-kept client whose `sni_hostname` extension lets us connect to
a pinned address while verifying the certificate for the URL's host. Connections are not
kept alive: a pooled connection is keyed by address, and two hosts on one address must not
share one.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.webhooks import (
    DELIVERY_TIMEOUT,
    RESPONSE_READ_LIMIT,
    SendResult,
    TargetUrl,
    is_public_address,
)

Resolver = Callable[[str, int], Awaitable[list[str]]]
USER_AGENT = "taskapp-webhooks/1"


# Host lookups block a thread each, and one whose DNS server never answers keeps its thread
# after the delivery has given up on it: they get threads of their own, so such hosts slow
# only other webhooks' lookups, never the event loop's default pool (which the rest of the
# process uses).
_LOOKUPS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="webhook-dns")


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal is its own answer)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().run_in_executor(
        _LOOKUPS, functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Refused(Exception):
    """The target is not one we may connect to."""


class HttpWebhookTargets:
    """Both ports: `TargetGuard` (on save) and `WebhookSender` (at each delivery)."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: timedelta = DELIVERY_TIMEOUT,
        resolver: Resolver | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._timeout = timeout.total_seconds()
        self._resolve = resolver
        self._client: httpx.AsyncClient | None = None

    async def _address(self, target: TargetUrl) -> str:
        try:
            addresses = await (self._resolve or resolve)(target.host, target.port)
        except OSError as error:
            raise Refused("its host cannot be resolved") from error
        if not addresses:
            raise Refused("its host cannot be resolved")
        if not self._allow_private:
            private = [address for address in addresses if not is_public_address(address)]
            if private:
                raise Refused(f"its host resolves to a non-public address ({private[0]})")
        return addresses[0]

    async def check(self, target: TargetUrl) -> None:
        try:
            await self._address(target)
        except Refused as refused:
            raise ValidationFailed.of(
                "url",
                f"must be a public https address: {refused} (loopback, private, link-local "
                "and metadata addresses are refused)",
            ) from refused

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # never a proxy from the environment
                timeout=httpx.Timeout(self._timeout),
                limits=httpx.Limits(max_keepalive_connections=0, max_connections=256),
                headers={"user-agent": USER_AGENT},
            )
        return self._client

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        """One attempt, bounded by the timeout as a whole: the host's lookup included (a
        resolver that never answers must not hold the delivery's place for longer)."""
        try:
            async with asyncio.timeout(self._timeout):
                return await self._attempt(url, headers, body)
        except TimeoutError:
            return SendResult(None, f"no answer within {self._timeout:g} s")

    async def _attempt(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        try:
            target = TargetUrl.parse(url, allow_http=self._allow_private)
            address = await self._address(target)
        except (ValidationFailed, Refused) as refused:
            reason = (
                refused.details[0].message
                if isinstance(refused, ValidationFailed)
                else str(refused)
            )
            return SendResult(None, f"refused: {reason}")
        pinned = httpx.URL(url).copy_with(host=address)
        request = self._http().build_request(
            "POST",
            pinned,
            headers={**headers, "host": httpx.URL(url).netloc.decode("ascii")},
            content=body,
            extensions={"sni_hostname": target.host} if target.secure else {},
        )
        try:
            response = await self._http().send(request, stream=True)
            try:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= RESPONSE_READ_LIMIT:
                        break
            finally:
                await response.aclose()
        except httpx.HTTPError as error:
            return SendResult(None, f"connection failed: {type(error).__name__}")
        status = response.status_code
        return SendResult(status, None if 200 <= status < 300 else f"HTTP {status}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
