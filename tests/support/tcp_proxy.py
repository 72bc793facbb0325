"""A tiny TCP proxy the outage tests control: forward, cut every connection, restore."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path


class TcpProxy:
    """Listens on 127.0.0.1 and forwards to a TCP address or a Unix socket."""

    def __init__(self, host: str | None, port: int, unix_socket: Path | None = None) -> None:
        self._host, self._port, self._unix_socket = host, port, unix_socket
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.down = False
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """The database "goes away": open connections drop, new ones are closed at once."""
        self.down = True
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def stall(self) -> None:
        """A network partition: connections stay open, but no byte gets through."""
        self._flowing.clear()

    def restore(self) -> None:
        self.down = False
        self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        try:
            if self._unix_socket is not None:
                up_reader, up_writer = await asyncio.open_unix_connection(str(self._unix_socket))
            else:
                up_reader, up_writer = await asyncio.open_connection(self._host, self._port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()


@contextlib.asynccontextmanager
async def proxied_server(
    database_url: str, data_dir: Path, environment: dict[str, str]
) -> AsyncIterator[tuple[str, TcpProxy]]:
    """A `taskapp serve` whose database connections all go through a TCP proxy run on this
    loop (so the blocking start and stop run in a thread, or the proxy could not forward),
    with short database timeouts so an outage shows within seconds. `environment` is the
    server's, without DATABASE_URL."""
    from tests.support.servers import running_servers

    async with database_proxy(database_url) as (proxy, through):
        servers = running_servers(
            1,
            data_dir,
            {
                **environment,
                "DATABASE_URL": through,
                "DB_CONNECT_TIMEOUT_SECONDS": "1",
                "DB_POOL_TIMEOUT_SECONDS": "1",
                "DB_STATEMENT_TIMEOUT_SECONDS": "2",
            },
        )
        (server,) = await asyncio.to_thread(servers.__enter__)
        try:
            yield server, proxy
        finally:
            proxy.restore()
            await asyncio.to_thread(servers.__exit__, None, None, None)


@contextlib.asynccontextmanager
async def database_proxy(database_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy in front of the test database (TCP or Unix socket), and the database URL
    that goes through it."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        proxy = TcpProxy(None, 0, Path(socket_dir) / f".s.PGSQL.{url.port or 5432}")
    else:
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        through = url.set(host="127.0.0.1", port=proxy.port, query={})
        yield proxy, through.render_as_string(hide_password=False)
    finally:
        await proxy.stop()
