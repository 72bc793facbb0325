"""The webhook delivery loop that runs beside the API in every `taskapp serve` process.

Each round queues the changes webhooks have not seen and sends the deliveries that are due;
while there is work it goes straight on, otherwise it waits `WEBHOOK_POLL_SECONDS` or until
a change notice (the same notices that wake event streams) says a webhook's owner wrote. The
database going away only pauses it (with back-off); nothing is lost, because the outbox is
in the database and claims expire. Settled deliveries older than the retention are pruned
about once an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from taskapp.domain.errors import DomainError
from taskapp.domain.ports.sync import ChangeFeed
from taskapp.domain.services.webhooks import WebhookDispatcher

logger = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0


async def deliver_forever(
    dispatcher: WebhookDispatcher, poll_seconds: float, retention: timedelta
) -> None:
    pause = poll_seconds
    next_prune = time.monotonic() + 60
    while True:
        try:
            read = await dispatcher.queue_changes()
            sent = await dispatcher.deliver_due()
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                await dispatcher.prune(retention)
            pause = poll_seconds
            if read or sent:
                continue
            # Nothing new: wait for the poll interval, or less when a change is noticed
            # or deliveries in flight finish (their webhooks may have more due).
            await dispatcher.until_woken(pause)
            continue
        except asyncio.CancelledError:
            raise
        except DomainError as error:  # the database is away: wait, then carry on
            logger.warning("webhook delivery paused: %s", error.message)
            pause = min(max(pause * 2, 0.5), 10.0)
        except Exception:
            logger.exception("webhook delivery round failed")
            pause = min(max(pause * 2, 0.5), 10.0)
        await asyncio.sleep(pause)


class DeliveryLoop:
    """Started with the app, stopped (cancelled) before its database closes; a delivery in
    flight then is sent again by whichever process claims it once its claim runs out."""

    def __init__(
        self,
        dispatcher: WebhookDispatcher,
        poll_seconds: float,
        retention: timedelta,
        changes: ChangeFeed,
    ) -> None:
        self._dispatcher = dispatcher
        self._changes = changes
        self._poll = poll_seconds
        self._retention = retention
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._changes.on_any_change(self._dispatcher.changed)
        self._task = asyncio.get_running_loop().create_task(
            deliver_forever(self._dispatcher, self._poll, self._retention)
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._dispatcher.stop()
