"""A simulated battery that broadcasts Pylontech CAN frames to its inverter.

It encodes the frames from its own table (the layouts of setfirelabs.com's
US5000 captures and OpenDTU-OnBattery's PylontechCanReceiver.cpp), never from
the integration's codec: an independent oracle, checked against the captured
vectors through the tests. It sends on any python-can bus: ``virtual`` in the
tests, ``udp_multicast`` for a Home Assistant in another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import can

from ..pack import PackModel

# Alarm key -> (byte, bit) of 0x359 (protections; warnings in bytes 2-3).
PROTECTION = {
    "pack_overvoltage": (0, 1),
    "pack_undervoltage": (0, 2),
    "charge_overtemperature": (0, 3),
    "charge_undertemperature": (0, 4),
    "discharge_overcurrent": (0, 7),
    "charge_overcurrent": (1, 0),
    "hardware_fault": (1, 3),
}
PERIOD = 1.0


@dataclass
class Limits:
    """What the battery lets its inverter do (0x351) and asks of it (0x35C)."""

    charge_voltage: float = 53.2
    charge_current: float = 100.0
    discharge_current: float = 150.0
    discharge_voltage: float = 44.8
    force_charge: bool = False
    full_charge_request: bool = False


@dataclass
class CanBroadcaster:
    """Sends the frame set of ``pack`` every :data:`PERIOD` seconds."""

    pack: PackModel
    manufacturer: str = "PYLON"
    modules: int = 2
    limits: Limits = field(default_factory=Limits)
    # While silent nothing is sent (the battery asleep, a cable pulled).
    silent: bool = False
    _bus: can.BusABC | None = None
    _task: asyncio.Task[None] | None = None

    def messages(self) -> list[can.Message]:
        """One broadcast cycle."""
        pack, limits = self.pack, self.limits
        protection = bytearray(4)
        for alarm in pack.alarms:
            if alarm in PROTECTION:
                byte, bit = PROTECTION[alarm]
                protection[byte] |= 1 << bit
        flags = (
            (0x80 if pack.charge_enabled else 0)
            | (0x40 if pack.discharge_enabled else 0)
            | (0x20 if limits.force_charge else 0)
            | (0x08 if limits.full_charge_request else 0)
        )
        temperature = pack.temperatures[0] if pack.temperatures else 25.0
        payloads = {
            0x351: struct.pack(
                "<HhhH",
                round(limits.charge_voltage * 10),
                round(limits.charge_current * 10),
                round(limits.discharge_current * 10),
                round(limits.discharge_voltage * 10),
            ),
            0x355: struct.pack("<HH", round(pack.soc), round(pack.state_of_health)),
            0x356: struct.pack(
                "<hhh",
                round(pack.voltage * 100),
                round(pack.current * 10),
                round(temperature * 10),
            ),
            0x359: bytes(protection) + bytes([self.modules]) + b"PN",
            0x35C: bytes([flags, 0]),
            0x35E: self.manufacturer.encode("ascii").ljust(8, b" ")[:8],
        }
        return [
            can.Message(arbitration_id=key, data=data, is_extended_id=False)
            for key, data in payloads.items()
        ]

    def open(self, interface: str, channel: str) -> None:
        """Open the bus the battery sends on."""
        self._bus = can.Bus(interface=interface, channel=channel)

    def send(self, messages: Iterable[can.Message]) -> None:
        """Put frames on the bus now (a cycle, or garbage of a test's choosing)."""
        if self._bus is None:
            raise RuntimeError("the broadcaster's bus is not open")
        for message in messages:
            self._bus.send(message)

    def broadcast(self) -> None:
        """One cycle, unless silent."""
        if not self.silent:
            self.send(self.messages())

    async def _run(self) -> None:
        while True:
            self.broadcast()
            await asyncio.sleep(PERIOD)

    def start(self, interface: str, channel: str) -> None:
        """Open the bus and broadcast every second (from the running loop)."""
        self.open(interface, channel)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop broadcasting, wait for it to end, close the bus."""
        task = self._task
        self.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        """Stop broadcasting and close the bus (from a callback)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._bus is not None:
            self._bus.shutdown()
            self._bus = None


def demo_pack() -> PackModel:
    """A 16-cell 48 V rack pack, discharging a little."""
    pack = PackModel()
    pack.cell_voltages = [3.325] * 16
    pack.current = -12.5
    pack.soc = 76.0
    pack.state_of_health = 98.0
    pack.temperatures = [23.4]
    pack.full_capacity = 100.0
    return pack
