"""A simulated Super-B Epsilon BMS (first generation): it streams status frames.

The module notifies a 20-byte status frame on ``6edadbe4-…`` (service
``74b9c2d1-…``) every ``period`` seconds while a host is connected; there is
nothing to write to. Big-endian: flags, SOC, SOH, the runtime in seconds,
then the current and the pack voltage as single-precision floats.

It encodes from its own table, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured frame in
``tests/protocol/data/superb_vectors.json`` pins the codec down (it decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
"""

from __future__ import annotations

import asyncio
import struct

from ..device import Advertising, SimCharacteristic, SimService, SimulatedBms
from ..pack import PackModel

SERVICE = "74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70"
NOTIFY = "6edadbe4-4f53-4a5a-96ed-02f93db93790"
# Byte 0, flags, SOC, SOH, runtime, current, voltage; bytes 16-19 stay 0.
STATUS = struct.Struct(">BBBBIff4x")
FLAG_OK = 0x01
FLAG_BALANCING = 0x80
# The flag bits of the capture (0x75) whose meaning no source states.
FLAGS_SEEN = 0x74


class SuperbSimulator(SimulatedBms):
    """Streams status frames while a host is connected; ignores writes."""

    family = "superb"
    services = (
        SimService(
            0x10, SERVICE, (SimCharacteristic(0x11, NOTIFY, ("read", "notify")),)
        ),
    )
    notify_handle = 0x11
    # No cell and no probe in the frame.
    per_cell = False

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the stream's timing and the problem flag beside the pack."""
        super().__init__(address, name, pack)
        self.period = 1.0
        self.first_delay = 0.1
        self.problem = False  # flags bit 0 cleared
        self._timer: asyncio.TimerHandle | None = None

    @property
    def probes(self) -> list[float]:
        """None: the frame carries no temperature."""
        return []

    def default_advertising(self, name: str) -> Advertising:
        """The name alone, as the real modules advertise."""
        return Advertising(name=name)

    def handle_write(self, handle: int, data: bytes) -> None:
        """The BMS takes no commands."""

    def on_connect(self) -> None:
        """Start streaming."""
        self._timer = asyncio.get_running_loop().call_later(
            self.first_delay, self._tick
        )

    def on_disconnect(self) -> None:
        """Stop streaming."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        if not self.connected:
            return
        self.send(self.status_frame())
        self.count_stream_tick()
        sending = self.notify_delay * -(-STATUS.size // self.mtu)
        self._timer = asyncio.get_running_loop().call_later(
            sending + self.period, self._tick
        )

    def corrupt(self, frame: bytes) -> bytes:
        """A copy with a byte that is always 0 set (no checksum to break)."""
        return frame[:-1] + b"\x5a"

    def status_frame(self) -> bytes:
        """The status frame from the pack model."""
        pack = self.pack
        flags = FLAGS_SEEN | (0 if self.problem else FLAG_OK)
        if pack.balancing_cells:
            flags |= FLAG_BALANCING
        runtime = 0
        if pack.current < 0:
            runtime = round(pack.remaining_capacity / -pack.current * 3600)
        return STATUS.pack(
            0,
            flags,
            round(pack.soc),
            round(pack.state_of_health),
            runtime,
            pack.current,
            pack.voltage,
        )


def demo(address: str) -> SuperbSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = SuperbSimulator(address, "Epsilon-201007664")
    device.pack.cell_voltages = [3.54, 3.539, 3.541, 3.54]
    device.pack.full_capacity = 90.0
    device.pack.current = -0.4
    device.pack.soc = 94
    return device
