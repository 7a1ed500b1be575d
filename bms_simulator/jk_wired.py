"""Simulated JK packs on a serial line: the ``4E 57`` protocol and JK-PB RS485.

Both encode from their own tables, never from the integration's codecs: they
are an independent oracle, checked against the captured frames of
``tests/protocol/data/jk_vectors.json`` through the codec tests. The JK-PB
pack reuses the 300-byte frames of the Bluetooth simulator (``families/jk.py``,
which has its own encoder too).

Layouts: syssi/esphome-jk-bms docs/protocol-design-uart-ttl-gps-port.md (4E 57)
and mr-manuel/venus-os_dbus-serialbattery bms-docs/JKBMS-PB.md (JK-PB).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from .pack import PackModel
from .serial.bus import BusSimulator
from .serial.responders import Responder, modbus_crc

START = b"\x4e\x57"


# The MOSFET switch fields a write may set.
WRITABLE = {0xAB: "charge_enabled", 0xAC: "discharge_enabled"}


def _sum_frame(body: bytes) -> bytes:
    """A 4E 57 frame: record number 0, end mark, 32-bit sum of the bytes before."""
    framed = body + bytes(4) + b"\x68"
    return framed + (sum(framed) & 0xFFFF).to_bytes(4, "big")


def _u(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big", signed=value < 0)


class Jk4e57Pack(Responder):
    """One board answering "read all", and the password-then-write switches.

    ``hung`` makes it silent; ``ignore_writes`` accepts writes without acting.
    Writes are only taken within the password's grace (the BMS needs it).
    """

    def __init__(self, address: int, pack: PackModel) -> None:
        """A pack at terminal number ``address`` (0 on every real line)."""
        self.address = address
        self.pack = pack
        self.hung = False
        self.ignore_writes = False
        self.requests = 0
        self._unlocked = False

    def request_length(self, buf: bytes) -> int | None:
        """The length field's total at ``4E 57``."""
        if len(buf) < 4:
            return None if START.startswith(buf[:2]) else 0
        if buf[:2] != START:
            return 0
        return int.from_bytes(buf[2:4], "big") + 2

    def answer(self, request: bytes) -> bytes | None:
        """Answer "read all"; act on a password and a write."""
        body = request[:-4]
        if (
            len(request) < 20
            or request[:2] != START
            or int.from_bytes(request[-4:], "big") != sum(body) & 0xFFFF
            or int.from_bytes(request[4:8], "big") != self.address
            or self.hung
        ):
            return None
        self.requests += 1
        command, register, value = request[8], request[11], request[12]
        if command == 0x06:
            return self.status_frame()
        if command == 0x05:
            self._unlocked = True
        elif command == 0x02 and self._unlocked:
            self._unlocked = False
            if not self.ignore_writes and register in WRITABLE:
                setattr(self.pack, WRITABLE[register], bool(value))
        return None

    def _fields(self) -> bytes:
        pack = self.pack
        cells = b"".join(
            bytes((i + 1,)) + _u(round(v * 1000), 2)
            for i, v in enumerate(pack.cell_voltages)
        )

        def temp(value: float) -> int:
            return round(value) if value >= 0 else 100 - round(value)

        current = round(abs(pack.current) * 100) | (0x8000 if pack.current > 0 else 0)
        status = (
            int(pack.charge_fet)
            | int(pack.discharge_fet) << 1
            | int(bool(pack.balancing_cells) and pack.balancer_enabled) << 2
            | 1 << 3
        )
        bits = {"soc_low": 0, "cell_overvoltage": 10, "cell_undervoltage": 11}
        warnings = sum(1 << b for a, b in bits.items() if a in pack.alarms)
        parts = [
            b"\x79" + bytes((len(cells),)) + cells,
            b"\x80" + _u(temp(pack.mosfet_temperature), 2),
            b"\x81" + _u(temp(pack.temperatures[0]), 2),
            b"\x82" + _u(temp(pack.temperatures[1]), 2),
            b"\x83" + _u(round(pack.voltage * 100), 2),
            b"\x84" + _u(current, 2),
            b"\x85" + bytes((round(pack.soc),)),
            b"\x86\x02",
            b"\x87" + _u(pack.cycles, 2),
            b"\x89" + _u(pack.cycles * round(pack.full_capacity), 4),
            b"\x8a" + _u(len(pack.cell_voltages), 2),
            b"\x8b" + _u(warnings, 2),
            b"\x8c" + _u(status, 2),
            b"\x9d" + bytes((int(pack.balancer_enabled),)),
            b"\xa9" + bytes((len(pack.cell_voltages),)),
            b"\xaa" + _u(round(pack.design_capacity), 4),
            b"\xab" + bytes((int(pack.charge_enabled),)),
            b"\xac" + bytes((int(pack.discharge_enabled),)),
            b"\xb4" + b"Input Us",
            b"\xb7" + b"10.XW_S10.07___",
            b"\xb9" + _u(round(pack.full_capacity), 4),
            b"\xba" + b"Input UserdaJK-B2A24S15P",
            b"\xc0\x01",
        ]
        return b"".join(parts)

    def status_frame(self) -> bytes:
        """The "read all" reply from the pack's state."""
        fields = self._fields()
        length = 2 + 4 + 3 + len(fields) + 9
        head = START + _u(length, 2) + _u(self.address, 4) + b"\x06\x00\x01"
        return _sum_frame(head + fields)


class FrameSource(Protocol):
    """What :class:`JkPbPack` needs of the Bluetooth simulator: its encoder."""

    pack: PackModel

    def cell_frame(self) -> bytes:
        """Frame type 0x02."""

    def settings_frame(self) -> bytes:
        """Frame type 0x01."""

    def device_info_frame(self) -> bytes:
        """Frame type 0x03."""


def _modbus(body: bytes) -> bytes:
    crc = modbus_crc(body)
    return body + bytes((crc & 0xFF, crc >> 8))


# Trigger registers and the frame each one is answered with.
STATUS, SETTINGS, ABOUT = 0x1620, 0x161E, 0x161C
SWITCHES = {0x1070: "charge_enabled", 0x1074: "discharge_enabled"}
SWITCHES[0x1078] = "balancer_enabled"


def trigger(address: int, register: int) -> bytes:
    """A master's request: write 0 to one trigger register of ``address``."""
    return _modbus(bytes((address, 0x10)) + _u(register, 2) + b"\x00\x01\x02\x00\x00")


class JkPbPack(Responder):
    """A JK-PB pack at a DIP address: frames on triggers, switch writes.

    ``frames`` is the Bluetooth simulator of the same pack (its 300-byte
    encoder); ``hung`` makes the pack silent, ``ignore_writes`` acknowledges
    writes without acting.
    """

    def __init__(self, address: int, frames: FrameSource) -> None:
        """A pack at ``address`` whose frames come from ``frames``."""
        self.address = address
        self.frames = frames
        self.hung = False
        self.ignore_writes = False
        self.requests = 0

    @property
    def pack(self) -> PackModel:
        """The simulated battery."""
        return self.frames.pack

    def request_length(self, buf: bytes) -> int | None:
        """9 + byte count of a 0x10 write."""
        if len(buf) < 2:
            return None
        if buf[1] != 0x10 or buf[0] > 15:
            return 0
        return 9 + buf[6] if len(buf) >= 7 else None

    def answer(self, request: bytes) -> bytes | None:
        """The frame, 0x00, the acknowledgement and 0x00; or the write's ack."""
        if (
            len(request) < 9
            or request[0] != self.address
            or request[1] != 0x10
            or _modbus(request[:-2]) != request
            or self.hung
        ):
            return None
        self.requests += 1
        register = int.from_bytes(request[2:4], "big")
        ack = _modbus(request[:6])
        if register in SWITCHES and request[6] == 4:
            if not self.ignore_writes:
                setattr(self.pack, SWITCHES[register], bool(request[10]))
            return ack
        frame = {
            STATUS: self.frames.cell_frame,
            SETTINGS: self.frames.settings_frame,
            ABOUT: self.frames.device_info_frame,
        }.get(register)
        if frame is None:
            return _modbus(bytes((self.address, 0x90, 0x02)))
        return frame() + b"\x00" + ack + b"\x00"


async def master_cycle(
    bus: BusSimulator,
    addresses: Sequence[int],
    *,
    cycles: int,
    own: FrameSource | None = None,
    gap: float = 0.02,
) -> None:
    """The pack at DIP address 0 drives the bus: it polls ``addresses``.

    Per address the status trigger, then the settings trigger (JKBMS-PB.md,
    "Fixed cycle"); then, with nothing asking for them, its own status and
    settings frames. Every frame the host hears comes from ``bus.master``.
    """
    for _ in range(cycles):
        for address in addresses:
            for register in (STATUS, SETTINGS):
                await bus.master(trigger(address, register), interval=gap, count=1)
        if own is not None:
            for frame in (own.cell_frame(), own.settings_frame()):
                await bus.master(frame, interval=gap, count=1)
        await asyncio.sleep(gap)
