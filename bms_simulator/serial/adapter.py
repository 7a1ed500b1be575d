"""A family simulator of ``bms_simulator/families`` on the simulated wire.

:class:`SimulatedResponder` puts a :class:`SimulatedBms` on a
:class:`BusSimulator`: every complete request on the line reaches the device
as a write, and what the device sends back goes onto the line as one reply,
with the device's own faults (``NO_ANSWER``, ``BAD_CHECKSUM``, ``TRUNCATED``,
``hung``) and then the line's (delay, noise, collisions). So one simulator
speaks over Bluetooth and over the wire, and its ``PackModel`` stays the
ground truth. Whether a request is for this pack (its bus address) is the
device's business, as on a real line where every pack hears every request.
"""

from __future__ import annotations

from collections.abc import Callable

from ..device import SimulatedBms
from ..pack import PackModel
from .responders import LineSender, Responder

type RequestLength = Callable[[bytes], int | None]

# No MTU on a wire: a reply leaves the device as one piece.
WHOLE_REPLY = 1 << 16


def write_handle(device: SimulatedBms) -> int:
    """The handle of the device's first writable characteristic."""
    for service in device.services:
        for characteristic in service.characteristics:
            if "write" in characteristic.properties:
                return characteristic.handle
    raise ValueError(f"{device.family} simulator has no writable characteristic")


class SimulatedResponder(Responder):
    """One simulated BMS at bus ``address``, split from the line by ``request_length``.

    ``request_length`` is the protocol's rule, as :meth:`Responder.request_length`
    states it (None: too few bytes to tell, 0: no request starts here).
    """

    def __init__(
        self,
        device: SimulatedBms,
        address: int,
        request_length: RequestLength,
        *,
        handle: int | None = None,
    ) -> None:
        """Attach to ``device`` as its host; replies wait for the line."""
        self.device = device
        self.address = address
        self.requests = 0
        self._length = request_length
        self._handle = write_handle(device) if handle is None else handle
        self._send: LineSender | None = None
        device.mtu = WHOLE_REPLY
        device.attach(self._notified, self._dropped)

    @property
    def pack(self) -> PackModel:
        """The ground truth of the pack."""
        return self.device.pack

    def request_length(self, buf: bytes) -> int | None:
        """The protocol's rule."""
        return self._length(buf)

    def answer(self, request: bytes) -> bytes | None:
        """Hand the request to the device; its reply comes through the line."""
        self.requests += 1
        self.device.receive(self._handle, request)
        return None

    def connect_line(self, send: LineSender) -> None:
        """Where the device's replies go."""
        self._send = send

    def _notified(self, handle: int, data: bytes) -> None:
        if self._send is not None:
            self._send(data)

    def _dropped(self) -> None:
        """A wire has no link to drop: what was sent stays sent."""
