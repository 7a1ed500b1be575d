"""The CAN transport: python-can, listening only.

It opens one python-can bus (SocketCAN, slcan, gs_usb; ``virtual`` and
``udp_multicast`` for the simulator) and hands every received data frame to
the driver, packed as :func:`.frames.pack` does. Nothing is ever sent: there
is no code path to ``send()``. slcan adapters are opened in listen-only
mode; a SocketCAN link is set listen-only by the host (``ip link``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from dataclasses import dataclass
from typing import Any

import can

from ..errors import UnsupportedError
from ..transport import DataCallback, DisconnectCallback, Transport
from .errors import (
    CanAdapterError,
    CanBusyError,
    CanNotFoundError,
    CanPermissionError,
    CanUnavailableError,
)
from .frames import pack

_LOGGER = logging.getLogger(__name__)

# How long the reader thread waits in recv(): also how fast it stops.
READ_TIMEOUT = 0.2
# The usual interfaces, the first the flow's default; any other python-can
# interface works too. A candleLight adapter is SocketCAN where the kernel has
# its gs_usb driver, else python-can's gs_usb (channel: the adapter's index).
INTERFACES = ("socketcan", "slcan", "gs_usb")
LISTEN_ONLY = frozenset({"slcan"})


@dataclass(frozen=True, slots=True)
class CanSettings:
    """Which interface, which channel on it, at which bit rate."""

    interface: str
    channel: str
    bitrate: int = 500_000


def _errno(err: BaseException) -> int | None:
    """The OS error number behind ``err``, through its causes."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        seen = seen.__cause__ or seen.__context__
    return None


def adapter_error(err: Exception, settings: CanSettings) -> CanAdapterError:
    """The adapter error that explains why opening ``settings`` failed."""
    label = f"{settings.interface} {settings.channel}"
    number = _errno(err)
    text = str(err).lower()
    # pyusb without libusb (gs_usb) says "No backend available".
    if (
        isinstance(err, (can.CanInterfaceNotImplementedError, ImportError))
        or number == errno.EAFNOSUPPORT
        or "no backend" in text
    ):
        return CanUnavailableError(f"{label}: {err}")
    if number in {errno.ENODEV, errno.ENOENT, errno.ENXIO} or "no such" in text:
        return CanNotFoundError(f"{label}: {err}")
    if "cannot find device" in text:
        return CanNotFoundError(f"{label}: {err}")
    if number == errno.EBUSY or "busy" in text:
        return CanBusyError(f"{label}: {err}")
    if number in {errno.EACCES, errno.EPERM}:
        return CanPermissionError(f"{label}: {err}")
    return CanAdapterError(f"{label}: {err}")


def open_bus(settings: CanSettings) -> can.BusABC:
    """Open the python-can bus (blocking: run it in an executor)."""
    options: dict[str, Any] = {
        "interface": settings.interface,
        "channel": settings.channel,
        "bitrate": settings.bitrate,
    }
    if settings.interface in LISTEN_ONLY:
        options["listen_only"] = True
    try:
        return can.Bus(**options)
    except (can.CanError, OSError, ValueError, ImportError) as err:
        raise adapter_error(err, settings) from err


class CanTransport(Transport):
    """One open python-can bus and the thread that reads it."""

    def __init__(self, settings: CanSettings) -> None:
        """Nothing opens before :meth:`connect`."""
        self.settings = settings
        self.error_frames = 0
        self._bus: can.BusABC | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_data: DataCallback | None = None
        self._on_disconnect: DisconnectCallback | None = None

    @property
    def is_connected(self) -> bool:
        """Whether the bus is open and its reader runs."""
        return self._bus is not None and not self._stop.is_set()

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        """Open the bus and start reading it."""
        await self.disconnect()
        self._loop = asyncio.get_running_loop()
        bus = await self._loop.run_in_executor(None, open_bus, self.settings)
        self._on_data = on_data
        self._on_disconnect = on_disconnect
        self._bus = bus
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._read,
            args=(bus, self._stop, self._loop),
            name=f"lithium_bms CAN {self.settings.channel}",
            daemon=True,
        )
        self._thread.start()

    def _read(
        self, bus: can.BusABC, stop: threading.Event, loop: asyncio.AbstractEventLoop
    ) -> None:
        """The reader thread: every message to the event loop, until stopped."""
        while not stop.is_set():
            try:
                message = bus.recv(READ_TIMEOUT)
            except (can.CanError, OSError, ValueError) as err:
                self._call(loop, self._lost, err)
                return
            if message is not None:
                self._call(loop, self._received, message)

    @staticmethod
    def _call(loop: asyncio.AbstractEventLoop, *args: Any) -> None:
        try:
            loop.call_soon_threadsafe(*args)
        except RuntimeError:  # the loop closed while the thread ran
            return

    def _received(self, message: can.Message) -> None:
        if self._on_data is None or self._stop.is_set():
            return
        if message.is_error_frame or message.is_remote_frame:
            self.error_frames += 1
            return
        self._on_data(
            pack(
                message.arbitration_id,
                bytes(message.data),
                extended=message.is_extended_id,
            )
        )

    def _lost(self, err: Exception) -> None:
        if self._stop.is_set():
            return
        _LOGGER.debug("CAN %s failed: %s", self.settings.channel, err)
        self._stop.set()
        if self._on_disconnect is not None:
            self._on_disconnect()

    async def write(self, data: bytes) -> None:
        """Refuse: this transport only listens."""
        raise UnsupportedError("the CAN transport never transmits")

    async def disconnect(self) -> None:
        """Stop the reader and close the bus; safe when closed already."""
        bus, thread = self._bus, self._thread
        self._bus = self._thread = None
        self._on_data = self._on_disconnect = None
        self._stop.set()
        if bus is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _close, bus, thread)


def _close(bus: can.BusABC, thread: threading.Thread | None) -> None:
    """Join the reader, then shut the bus down (blocking)."""
    if thread is not None:
        thread.join(READ_TIMEOUT * 5)
    try:
        bus.shutdown()
    except (can.CanError, OSError) as err:
        _LOGGER.debug("Closing the CAN bus failed: %s", err)
