"""A simulated RS485 line: several addressed packs, echo, noise, collisions.

The host's bytes reach every responder; the one addressed answers after a
short delay. Knobs: ``echo`` (a 2-wire adapter hears its own bytes), ``noise``
(bytes in front of every reply), ``collide_every`` (every n-th reply is hit by
another sender: one byte garbled), and :meth:`master` (another master that
owns the bus and polls packs periodically, a cycle of requests, bounded in count).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence

from .responders import Responder

type Sender = Callable[[bytes], None]

# Bytes a paced reply is put on the line in (with ``baudrate``).
CHUNK = 16


class BusSimulator:
    """The far side of a serial port: a line with addressed responders."""

    def __init__(
        self,
        responders: Sequence[Responder],
        *,
        echo: bool = False,
        noise: bytes = b"",
        collide_every: int = 0,
        reply_delay: float = 0.005,
        baudrate: int | None = None,
    ) -> None:
        """Put ``responders`` on the line."""
        self.responders = list(responders)
        self.echo = echo
        self.noise = noise
        self.collide_every = collide_every
        self.reply_delay = reply_delay
        self.baudrate = baudrate
        self.send: Sender | None = None
        self.received = bytearray()  # everything the host sent
        self.sent = 0  # bytes the packs put on the line
        self.replies = 0
        self.collisions = 0
        self._buf = bytearray()
        self._tasks: set[asyncio.Task[None]] = set()
        self._request_airtime = 0.0  # of the request being answered
        self._line = asyncio.Lock()  # one paced reply on the line at a time
        for responder in self.responders:
            responder.connect_line(self.deliver)

    def add(self, responder: Responder) -> None:
        """A pack joins the line."""
        self.responders.append(responder)
        responder.connect_line(self.deliver)

    def remove(self, responder: Responder) -> None:
        """A pack leaves the line (it hears and answers nothing more)."""
        self.responders.remove(responder)

    def feed(self, data: bytes) -> None:
        """Bytes from the host: echo them, answer every complete request."""
        self.received += data
        if self.echo:
            self._emit(data)
        self._buf += data
        while self._buf:
            lengths = [r.request_length(bytes(self._buf)) for r in self.responders]
            known = [n for n in lengths if n]
            if not known:
                if None in lengths:
                    return
                del self._buf[:1]  # no request starts here: resync
                continue
            length = min(known)
            if length > len(self._buf):
                return
            request = bytes(self._buf[:length])
            del self._buf[:length]
            self._request_airtime = self.airtime(request)
            for responder in self.responders:
                reply = responder.answer(request)
                if reply is not None:
                    self._later(self._reply(reply))
                    break

    async def master(self, *requests: bytes, interval: float, count: int) -> None:
        """Another master polls: ``count`` cycles of ``requests``, heard by the host."""
        for _ in range(count):
            for request in requests:
                self._emit(request)
                for responder in self.responders:
                    reply = responder.answer(request)
                    if reply is not None:
                        await asyncio.sleep(self.reply_delay)
                        self._emit(reply)
                await asyncio.sleep(interval)

    def airtime(self, data: bytes) -> float:
        """How long ``data`` takes on the wire (nothing without a baud rate)."""
        return len(data) * 11 / self.baudrate if self.baudrate else 0.0

    def deliver(self, reply: bytes) -> None:
        """A reply a responder produced by itself (after its own delay)."""
        self._later(self._reply(reply))

    async def _reply(self, reply: bytes) -> None:
        await asyncio.sleep(self.reply_delay + self._request_airtime)
        self.replies += 1
        if self.collide_every and self.replies % self.collide_every == 0:
            self.collisions += 1
            middle = len(reply) // 2
            reply = (
                reply[:middle] + bytes((reply[middle] ^ 0x5A,)) + reply[middle + 1 :]
            )
        data = self.noise + reply
        self.sent += len(data)
        if not self.baudrate:
            self._emit(data)
            return
        # On a real line the bytes come one after another at the baud rate,
        # and one reply after another.
        async with self._line:
            loop = asyncio.get_running_loop()
            due = loop.time()  # deadlines, so sleeping late does not add up
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                due += self.airtime(chunk)
                await asyncio.sleep(max(0.0, due - loop.time()))
                self._emit(chunk)

    def _later(self, job: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _emit(self, data: bytes) -> None:
        if self.send is not None:
            self.send(data)

    def cancel(self) -> None:
        """Stop every pending reply."""
        for task in list(self._tasks):
            task.cancel()
