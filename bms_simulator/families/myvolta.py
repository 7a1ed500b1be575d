"""A simulated MyVolta kit: it relays the pack's CAN messages over BLE.

While a host is connected, the kit notifies one cycle of messages every
``period`` seconds on ``…0301`` (service ``00035b03-…``); nothing is written
to it. A frame on the air is ``55 55``, the bytes, ``04 04``; each data
frame is command 01, the message type, pack ID 02, three ID bytes, DLC 08,
eight little-endian data bytes and a checksum that makes the bytes sum to 0
modulo 256. A data byte 04 or 05 goes out behind an escape byte 05 (no
capture shows how the kit sends one: this is the reading the integration
decodes).

It encodes from its own tables, not from the integration's codec: it is an
independent oracle, so a decoding mistake in the integration cannot hide behind
the same mistake in the simulator. The captured cycle in
``tests/protocol/data/myvolta_vectors.json`` pins the codec down (it decodes
exactly), and the driver tests check that what the codec reads from this
simulator equals the simulated pack.
"""

from __future__ import annotations

import asyncio
import struct

from ..device import Advertising, SimCharacteristic, SimService, SimulatedBms
from ..pack import PackModel

SERVICE = "00035b03-58e6-07dd-021a-08123a000300"
NOTIFY = "00035b03-58e6-07dd-021a-08123a000301"
EIGHT = struct.Struct("<4H")
SIGNED = struct.Struct("<4h")
PROBES = 12  # messages 0x24-0x26, four each
NO_PROBE = -548  # what 0x27-0x29 hold in the capture (0.1 degC)
# The capture's frame of another command, sent at the head of a cycle.
OTHER = bytes.fromhex("8300080174")


def stuff(frame: bytes) -> bytes:
    """The frame as the kit sends it."""
    body = bytearray()
    for byte in frame:
        if byte in (0x04, 0x05):
            body.append(0x05)
        body.append(byte)
    return b"\x55\x55" + bytes(body) + b"\x04\x04"


def unstuff(wire: bytes) -> bytes:
    """The frame behind a stuffed one (for :meth:`MyvoltaSimulator.corrupt`)."""
    body = wire[2:-2]
    out = bytearray()
    escaped = False
    for byte in body:
        if not escaped and byte == 0x05:
            escaped = True
            continue
        escaped = False
        out.append(byte)
    return bytes(out)


def data_frame(kind: int, data: bytes) -> bytes:
    """A data frame of message ``kind``, checksum included, not yet stuffed."""
    head = bytes((0x01, kind, 0x02, 0x00, 0x00, 0x00, 0x08)) + data
    return head + bytes(((-sum(head)) % 256,))


class MyvoltaSimulator(SimulatedBms):
    """Streams cycles of CAN messages while a host is connected."""

    family = "myvolta"
    services = (
        SimService(
            0x10, SERVICE, (SimCharacteristic(0x11, NOTIFY, ("read", "notify")),)
        ),
    )
    notify_handle = 0x11

    def __init__(self, address: str, name: str, pack: PackModel | None = None) -> None:
        """Add the stream's timing, the problem code and the heater."""
        super().__init__(address, name, pack)
        self.period = 1.0
        self.first_delay = 0.1
        self.problem_code = 0
        self.heater = False
        # Message types left out of every cycle (a lost message).
        self.silent: set[int] = set()
        self._timer: asyncio.TimerHandle | None = None

    def default_advertising(self, name: str) -> Advertising:
        """The name and the kit's service, as the real kit advertises."""
        return Advertising(name=name, service_uuids=[SERVICE])

    @property
    def probes(self) -> list[float]:
        """Twelve probes: the pack's, the last one repeated to fill them."""
        temperatures = list(self.pack.temperatures) or [25.0]
        return (temperatures + [temperatures[-1]] * PROBES)[:PROBES]

    def handle_write(self, handle: int, data: bytes) -> None:
        """The kit takes no commands."""

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
        sent = 0
        for wire in self.cycle():
            self.send(wire)
            sent += -(-len(wire) // self.mtu)
        self.count_stream_tick()
        self._timer = asyncio.get_running_loop().call_later(
            self.notify_delay * sent + self.period, self._tick
        )

    def corrupt(self, frame: bytes) -> bytes:
        """A copy with its checksum flipped (re-stuffed)."""
        inner = unstuff(frame)
        return stuff(inner[:-1] + bytes((inner[-1] ^ 0x5A,)))

    def messages(self) -> dict[int, bytes]:
        """Every message type's eight data bytes, from the pack model."""
        pack = self.pack
        millivolts = [round(v * 1000) for v in pack.cell_voltages][:16]
        millivolts += [0] * (16 - len(millivolts))
        info = self.problem_code & 0xFF00FFFF
        if self.heater:
            info |= 0x80 << 16
        probes = [round(t * 10) for t in self.probes]
        out = {
            0x00: struct.pack(
                "<HhHH",
                round(pack.voltage * 1000),
                round(pack.current * 100),
                0,
                round(pack.soc * 10),
            ),
            0x01: b"\x00" + info.to_bytes(4, "little") + b"\x00\x00\x00",
            0x21: EIGHT.pack(0x8000, 0x8000, 0x8000, 0x8000),
            0x22: EIGHT.pack(0x8000, 0x8000, 0, 0),
        }
        for index, kind in enumerate((0x11, 0x12, 0x13, 0x14)):
            out[kind] = EIGHT.pack(*millivolts[4 * index : 4 * index + 4])
        for index, kind in enumerate((0x24, 0x25, 0x26)):
            out[kind] = SIGNED.pack(*probes[4 * index : 4 * index + 4])
        for kind in (0x27, 0x28, 0x29):
            out[kind] = SIGNED.pack(*[NO_PROBE] * 4)
        return out

    def cycle(self) -> list[bytes]:
        """One cycle on the air: the other command's frame, then every message."""
        frames = [stuff(OTHER)]
        for kind, data in sorted(self.messages().items()):
            if kind not in self.silent:
                frames.append(stuff(data_frame(kind, data)))
        return frames


def demo(address: str) -> MyvoltaSimulator:
    """The family's demo device (development setup, end-to-end test, benchmark)."""
    device = MyvoltaSimulator(address, "VPS-197B")
    device.pack.cell_voltages = [4.104] * 6 + [4.099, 4.104, 4.095] + [4.104] * 5
    device.pack.temperatures = [17.1, 17.2, 17.2, 17.3, 17.2, 17.2]
    device.pack.current = -0.56
    device.pack.soc = 94.2
    return device
