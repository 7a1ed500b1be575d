"""A simulated battery that broadcasts Pylontech CAN frames to its inverter.

It encodes the frames from its own table (the layouts of setfirelabs.com's
US5000 captures and OpenDTU-OnBattery's PylontechCanReceiver.cpp; for protocol
V1.3 the SMA / Victron frames 0x35A and 0x35F as OpenDTU-OnBattery's Pytes
provider and dfch/BydCanProtocol document them, and 0x379 where asked; JK's
own CAN frames as mr-manuel/venus-os_dbus-serialbattery jkbms_pb_can.py lays
them out; the Growatt protocol's answer as dalathegreat/Battery-Emulator
GROWATT-LV-CAN.cpp builds it), never from the integration's codec: an
independent oracle, checked against the captured vectors through the tests.
It sends on any python-can bus: ``virtual`` in the tests, ``udp_multicast``
for a Home Assistant in another process.
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
# Alarm key -> byte of 0x35A and the lower bit of its pair (warnings: byte + 4).
V13_ALARMS = {
    "pack_overvoltage": (0, 2),
    "pack_undervoltage": (0, 4),
    "charge_overtemperature": (1, 2),
    "charge_undertemperature": (1, 4),
    "discharge_overcurrent": (1, 6),
    "charge_overcurrent": (2, 0),
    "short_circuit": (2, 4),
    "hardware_fault": (2, 6),
    "cell_voltage_difference": (3, 0),
}
ACTIVE, CLEARED = 0b01, 0b10
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
    # "1.3": 0x35A and 0x35F instead of 0x359 and 0x35C, a six-byte 0x355;
    # "jk": JK's own frames only (status, temperatures, capacity, cells);
    # "growatt": the Growatt protocol's answer to the inverter's poll.
    version: str = "1.2"
    # Also send JK's cell frames (0x18E028F4 on) after the Pylontech ones.
    jk_cells: bool = False
    # The JK BMS's CAN address: each of JK's IDs plus this.
    jk_address: int = 0
    # Also send 0x379 with the pack's design capacity (as BYD and Pytes do).
    installed_capacity: bool = False
    # While silent nothing is sent (the battery asleep, a cable pulled).
    silent: bool = False
    _bus: can.BusABC | None = None
    _task: asyncio.Task[None] | None = None

    def _protection(self) -> bytes:
        protection = bytearray(4)
        for alarm in self.pack.alarms:
            if alarm in PROTECTION:
                byte, bit = PROTECTION[alarm]
                protection[byte] |= 1 << bit
        return bytes(protection) + bytes([self.modules]) + b"PN"

    def _alarm_pairs(self) -> bytes:
        """Every condition of the table reported, active or cleared."""
        flags = bytearray(8)
        for alarm, (byte, bit) in V13_ALARMS.items():
            flags[byte] |= (ACTIVE if alarm in self.pack.alarms else CLEARED) << bit
            flags[byte + 4] |= CLEARED << bit
        return bytes(flags)

    def _requests(self) -> bytes:
        flags = (
            (0x80 if self.pack.charge_enabled else 0)
            | (0x40 if self.pack.discharge_enabled else 0)
            | (0x20 if self.limits.force_charge else 0)
            | (0x08 if self.limits.full_charge_request else 0)
        )
        return bytes([flags, 0])

    def _jk_cell_messages(self) -> list[can.Message]:
        """Four cells a frame in mV, the last frame padded with 0 (not fitted)."""
        millivolts = [round(v * 1000) for v in self.pack.cell_voltages]
        return [
            can.Message(
                arbitration_id=0x18E028F4 + (group << 16) + self.jk_address,
                data=struct.pack("<4H", *[*millivolts[start : start + 4], 0, 0, 0][:4]),
                is_extended_id=True,
            )
            for group, start in enumerate(range(0, len(millivolts), 4))
        ]

    def _jk_messages(self) -> list[can.Message]:
        """JK's own protocol: status, temperatures, capacity, then the cells."""
        pack = self.pack
        temperatures = [round(t) for t in pack.temperatures] or [25]
        status = struct.pack(
            "<HHB3x", round(pack.voltage * 10), round(pack.current * 10) + 4000,
            round(pack.soc),
        )  # fmt: skip
        average = round(sum(temperatures) / len(temperatures))
        heat = bytes([max(temperatures) + 50, 1, min(temperatures) + 50, 1])
        heat += bytes([average + 50, 0, 0, 0])
        capacity = struct.pack(
            "<HHHH", round(pack.remaining_capacity * 10),
            round(pack.design_capacity * 10), 0, pack.cycles,
        )  # fmt: skip
        at = self.jk_address
        return [
            can.Message(arbitration_id=0x2F4 + at, data=status, is_extended_id=False),
            can.Message(arbitration_id=0x5F4 + at, data=heat, is_extended_id=False),
            can.Message(
                arbitration_id=0x18F128F4 + at, data=capacity, is_extended_id=True
            ),
            *self._jk_cell_messages(),
        ]

    def _growatt_messages(self) -> list[can.Message]:
        """Growatt's answer: limits, counts, measurement, cells, maker."""
        pack, limits = self.pack, self.limits
        temperature = max(pack.temperatures) if pack.temperatures else 25.0
        millivolts = [round(v * 1000) for v in pack.cell_voltages]
        payloads = {
            0x311: struct.pack(
                ">Hhh2x", round(limits.charge_voltage * 10),
                round(limits.charge_current * 10), round(limits.discharge_current * 10),
            ),
            0x312: bytes([0, 0, 0, 0, self.modules, 0, 0, len(millivolts)]),
            0x313: struct.pack(
                ">HhhBB", round(pack.voltage * 100), round(pack.current * 10),
                round(temperature * 10), round(pack.soc), round(pack.state_of_health),
            ),
            **{
                0x315 + group: struct.pack(
                    ">4H", *[*millivolts[group * 4 : group * 4 + 4], 0, 0, 0, 0][:4]
                )
                for group in range(4)
            },
            0x320: self.manufacturer[:2].upper().encode("ascii") + bytes(6),
        }  # fmt: skip
        return [
            can.Message(arbitration_id=key, data=data, is_extended_id=False)
            for key, data in payloads.items()
        ]

    def messages(self) -> list[can.Message]:
        """One broadcast cycle."""
        if self.version == "jk":
            return self._jk_messages()
        if self.version == "growatt":
            return self._growatt_messages()
        pack, limits = self.pack, self.limits
        v13 = self.version == "1.3"
        temperature = pack.temperatures[0] if pack.temperatures else 25.0
        state = struct.pack("<HH", round(pack.soc), round(pack.state_of_health))
        payloads = {
            0x351: struct.pack(
                "<HhhH",
                round(limits.charge_voltage * 10),
                round(limits.charge_current * 10),
                round(limits.discharge_current * 10),
                round(limits.discharge_voltage * 10),
            ),
            0x355: state + bytes(2) if v13 else state,
            0x356: struct.pack(
                "<hhh",
                round(pack.voltage * 100),
                round(pack.current * 10),
                round(temperature * 10),
            ),
        }
        if v13:
            payloads[0x35A] = self._alarm_pairs()
        else:
            payloads[0x359] = self._protection()
            payloads[0x35C] = self._requests()
        payloads[0x35E] = self.manufacturer.encode("ascii").ljust(8, b" ")[:8]
        if v13:
            # "LI", version 1.3, the available Ah, two bytes not read.
            payloads[0x35F] = b"LI\x01\x03" + struct.pack(
                "<HH", round(pack.remaining_capacity), 0
            )
        if self.installed_capacity:
            payloads[0x379] = struct.pack("<H", round(pack.design_capacity))
        return [
            can.Message(arbitration_id=key, data=data, is_extended_id=False)
            for key, data in payloads.items()
        ] + (self._jk_cell_messages() if self.jk_cells else [])

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
