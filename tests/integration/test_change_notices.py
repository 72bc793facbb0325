"""The change notifier: sent after commit, coalesced, heard as comma-separated ids."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from taskapp.adapters.postgres.change_notices import CHANNEL, ChangeNotifier, parse
from taskapp.adapters.postgres.database import Database, PoolSettings, driver_dsn


@pytest.fixture(scope="module")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, PoolSettings(pool_size=2))
    yield db
    await db.close()


@pytest.fixture
async def heard(database_url: str) -> AsyncIterator[asyncio.Queue[str]]:
    payloads: asyncio.Queue[str] = asyncio.Queue()
    connection = await asyncpg.connect(driver_dsn(database_url))
    await connection.add_listener(CHANNEL, lambda _c, _p, _ch, text: payloads.put_nowait(text))
    yield payloads
    await connection.close()


async def _ids(
    payloads: asyncio.Queue[str], mine: set[uuid.UUID], seconds: float = 2
) -> list[uuid.UUID]:
    """The ids of `mine` heard within `seconds` (other tests' notices are ignored)."""
    found: list[uuid.UUID] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while len(found) < len(mine) and loop.time() < deadline:
        try:
            payload = await asyncio.wait_for(payloads.get(), deadline - loop.time())
        except TimeoutError:
            break
        ids, malformed = parse(payload)
        assert not malformed
        found.extend(found_id for found_id in ids if found_id in mine)
    return found


@pytest.mark.parametrize("background", [True, False])
async def test_changes_reach_listeners_gathered_into_few_notices(
    database: Database, heard: asyncio.Queue[str], background: bool
) -> None:
    notifier = ChangeNotifier(database, long_lived=background)
    users = [uuid.uuid4() for _ in range(450)]
    try:
        if background:
            notifier.changed(users[:1])  # sent at once: the notifier was idle
            notifier.changed(users[1:])  # gathered while the first is on its way
            notifier.changed(users[:5])  # already pending: not sent twice
        else:
            await notifier.send_now([*users, *users[:5]])
        got = await _ids(heard, set(users))
        assert sorted(got) == sorted(users)  # each once
        assert notifier.sent <= 4  # 450 ids: 1 + 3 notices of at most 200 each
    finally:
        await notifier.close()
    assert await _ids(heard, set(users), 0.1) == []


async def test_what_is_pending_at_close_is_still_sent(
    database: Database, heard: asyncio.Queue[str]
) -> None:
    notifier = ChangeNotifier(database, interval_seconds=10)  # the second waits 10 s
    first, second = uuid.uuid4(), uuid.uuid4()
    notifier.changed([first])
    assert await _ids(heard, {first}) == [first]
    notifier.changed([second])
    await notifier.close()
    assert await _ids(heard, {second}) == [second]
    third = uuid.uuid4()
    notifier.changed([third])  # closed: nothing more
    assert await _ids(heard, {third}, 0.1) == []
