"""Where the simulated line is reached: a pseudo-terminal pair or TCP on loopback.

Both stop by themselves after ``lifetime`` seconds. The TCP server listens on
127.0.0.1 only, on a free port, and can go away and come back on that port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty

from .bus import BusSimulator

LIFETIME = 60.0
LOOPBACK = "127.0.0.1"


class PtyEndpoint:
    """The bus on the master side of ``os.openpty()``; ``path`` is the port."""

    def __init__(self, bus: BusSimulator, *, lifetime: float = LIFETIME) -> None:
        """Prepare; :meth:`start` opens the pair."""
        self.bus = bus
        self.lifetime = lifetime
        self.path = ""
        self._master = -1
        self._slave = -1
        self._timer: asyncio.TimerHandle | None = None

    async def start(self) -> str:
        """Open the pair and serve the bus; returns the port's path."""
        loop = asyncio.get_running_loop()
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        loop.add_reader(self._master, self._readable)
        self.bus.send = self._write
        self._timer = loop.call_later(self.lifetime, self.stop)
        return self.path

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError:
            return
        self.bus.feed(data)

    def _write(self, data: bytes) -> None:
        if self._master >= 0:
            with contextlib.suppress(OSError):
                os.write(self._master, data)

    def stop(self) -> None:
        """Close the pair: the port vanishes for whoever has it open."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.bus.cancel()
        self.bus.send = None
        if self._master >= 0:
            asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
            self._master = -1
        if self._slave >= 0:
            os.close(self._slave)
            self._slave = -1


class TcpEndpoint:
    """The bus behind a TCP server on 127.0.0.1 (``socket://`` for serialx)."""

    def __init__(self, bus: BusSimulator, *, lifetime: float = LIFETIME) -> None:
        """Prepare; :meth:`start` listens."""
        self.bus = bus
        self.lifetime = lifetime
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._expiry: asyncio.Future[None] | None = None

    @property
    def url(self) -> str:
        """The serialx URL of the server."""
        return f"socket://{LOOPBACK}:{self.port}"

    async def start(self) -> str:
        """Listen (on the previous port again after :meth:`stop`)."""
        self._server = await asyncio.start_server(self._serve, LOOPBACK, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.lifetime, self._expire)
        return self.url

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        self._writers.add(writer)
        self.bus.send = writer.write
        try:
            while data := await reader.read(4096):
                self.bus.feed(data)
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        """The server goes away: close it and every connection."""
        self.bus.cancel()
        self.bus.send = None
        server, self._server = self._server, None
        for writer in list(self._writers):
            writer.close()
        if server is not None:
            server.close()
            await server.wait_closed()

    def _expire(self) -> None:
        self._timer = None
        self._expiry = asyncio.ensure_future(self.stop())

    async def close(self) -> None:
        """Stop for good."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.stop()
