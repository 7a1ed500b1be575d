"""JK's older wired protocol (``4E 57`` frames, UART-TTL / RS485, 115200 baud).

A frame is ``4E 57 <length u16> <terminal u32> <command> <source> <type>
<fields> <record u32> 68 <checksum u32>``, all big-endian. ``length`` counts
every byte after the ``4E 57`` start; the checksum is the 16-bit sum of every
byte before it (the upper two of its four bytes are zero). Commands: 0x02
write, 0x05 password, 0x06 read all; type 0 is a request, 1 a reply. A reply
to "read all" carries ID-coded fields: an ID byte, then a value of the size
the ID has (0x79, the cells, has its own length byte).

Layout, field IDs and sizes: syssi/esphome-jk-bms
docs/protocol-design-uart-ttl-gps-port.md and components/jk_modbus/jk_modbus.cpp
(commit 2fa4323bdde7d3c5abf758d92de8f6c7f6751b54); the vendor's frame table as
quoted in Kenura-R-Gunarathna/jkbms-esp32 README.md (commit
d42220261481ad976bfbc3c9e4b5faacef92f4d4); decoding cross-checked with
mr-manuel/venus-os_dbus-serialbattery dbus-serialbattery/bms/jkbms.py (commit
358d3c7739df3545f88591120a5dd67ea2ba2c8f).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from ..errors import ChecksumError, FrameError
from ..snapshot import Alarm, SwitchKind, Temperature, TemperatureKind

START = b"\x4e\x57"
END_MARK = 0x68
# Bytes before the fields (start, length, terminal, command, source, type) and
# after them (record number, end mark, checksum).
HEAD_LENGTH = 11
TAIL_LENGTH = 9
MIN_LENGTH = HEAD_LENGTH + TAIL_LENGTH
MAX_LENGTH = 1024
CELLS_ID = 0x79


class Command(IntEnum):
    """Byte 8: what the frame does."""

    WRITE = 0x02
    PASSWORD = 0x05
    READ_ALL = 0x06


class Source(IntEnum):
    """Byte 9: who sends the frame."""

    BMS = 0x00
    GPS = 0x02
    PC = 0x03


REQUEST = 0x00
REPLY = 0x01

# Value sizes by field ID (docs/protocol-design-uart-ttl-gps-port.md, "Registers").
FIELD_SIZES: dict[int, int] = {
    **dict.fromkeys((0x80, 0x81, 0x82, 0x83, 0x84, 0x87, 0x8A, 0x8B, 0x8C), 2),
    0x85: 1,
    0x86: 1,
    0x89: 4,
    **dict.fromkeys(range(0x8E, 0x9D), 2),
    0x9D: 1,
    **dict.fromkeys(range(0x9E, 0xA9), 2),
    0xA9: 1,
    0xAA: 4,
    0xAB: 1,
    0xAC: 1,
    0xAD: 2,
    0xAE: 1,
    0xAF: 1,
    0xB0: 2,
    0xB1: 1,
    0xB2: 10,
    0xB3: 1,
    0xB4: 8,
    0xB5: 4,
    0xB6: 4,
    0xB7: 15,
    0xB8: 1,
    0xB9: 4,
    0xBA: 24,
    0xBB: 1,
    0xBC: 1,
    0xBD: 1,
    0xBE: 2,
    0xBF: 2,
    0xC0: 1,
}

# Fields a snapshot needs: a reply without one of them is refused.
REQUIRED = (CELLS_ID, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x8B, 0x8C)

# The charge and discharge MOSFET switches (0 off, 1 on): written with command
# 0x02 after the password command 0x05, read back in the "read all" reply.
# Tested on hardware in syssi/esphome-jk-bms issue #341 and pull request #343
# (components/jk_bms/switch/__init__.py). The balancer (0x9D) is not
# accepted over this port (same file, and issue #20).
SWITCH_FIELDS: dict[SwitchKind, int] = {
    SwitchKind.CHARGE: 0xAB,
    SwitchKind.DISCHARGE: 0xAC,
}

# 0x8B warning bits (the vendor's table in the sources above). Bits 4, 8 and
# 9 (battery and box over-temperature, battery under-temperature) do not say
# whether they stop charging or discharging, and 12/13 ("309_A/B protection")
# are unexplained: they stay in ``protection_code`` only.
ALARM_BITS: dict[int, Alarm] = {
    0: Alarm.SOC_LOW,
    1: Alarm.MOSFET_OVERTEMPERATURE,
    2: Alarm.PACK_OVERVOLTAGE,
    3: Alarm.PACK_UNDERVOLTAGE,
    5: Alarm.CHARGE_OVERCURRENT,
    6: Alarm.DISCHARGE_OVERCURRENT,
    7: Alarm.CELL_VOLTAGE_DIFFERENCE,
    10: Alarm.CELL_OVERVOLTAGE,
    11: Alarm.CELL_UNDERVOLTAGE,
}
SUPPORTED_ALARMS = frozenset(ALARM_BITS.values())


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The 16-bit sum of ``data``."""
    return sum(data) & 0xFFFF


def _frame(
    command: Command,
    source: Source,
    body: bytes,
    terminal: int = 0,
) -> bytes:
    """A request: header, ``body`` (register and value), record 0, end, sum."""
    length = 2 + 4 + 3 + len(body) + 4 + 1 + 4
    head = (
        START
        + length.to_bytes(2, "big")
        + terminal.to_bytes(4, "big")
        + bytes((command, source, REQUEST))
    )
    framed = head + body + bytes(4) + bytes((END_MARK,))
    return framed + checksum(framed).to_bytes(4, "big")


# Seconds between the password and the write (pull request #343: 100 ms).
PASSWORD_DELAY = 0.1


def read_request(terminal: int = 0) -> bytes:
    """The "read all" request as every source sends it, from a PC host.

    Terminal 0 gives ``4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00
    00 01 29``.
    """
    return _frame(Command.READ_ALL, Source.PC, b"\x00", terminal)


def password_request(terminal: int = 0) -> bytes:
    """The password command as esphome-jk-bms sends it before a write.

    From the GPS port source, tested in pull request #343; the BMS ignores the
    register and value it carries.
    """
    return _frame(Command.PASSWORD, Source.GPS, b"\x00\x00", terminal)


def build_switch(kind: SwitchKind, on: bool, terminal: int = 0) -> bytes:
    """The write command that sets one MOSFET switch."""
    value = bytes((SWITCH_FIELDS[kind], int(on)))
    return _frame(Command.WRITE, Source.GPS, value, terminal)


def frame_length(head: bytes | bytearray, pos: int = 0) -> int | None:
    """The length of the frame at ``head[pos]``: None to tell, 0 for none."""
    if len(head) - pos < 4:
        return None
    if head[pos : pos + 2] != START:
        return 0
    total = int.from_bytes(head[pos + 2 : pos + 4], "big") + 2
    return total if MIN_LENGTH <= total <= MAX_LENGTH else 0


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole frame with its end mark and sum."""
    if frame_length(frame) != len(frame):
        raise FrameError("not a JK 4E 57 frame")
    if frame[-TAIL_LENGTH + 4] != END_MARK:
        raise FrameError("JK 4E 57 frame without its end mark")
    if int.from_bytes(frame[-4:], "big") != checksum(frame[:-4]):
        raise ChecksumError("JK 4E 57 checksum mismatch")


@dataclass(frozen=True, slots=True)
class Header:
    """What the fixed head of a frame says."""

    terminal: int
    command: int
    source: int
    kind: int


def header(frame: bytes) -> Header:
    """The head of a checked frame."""
    return Header(int.from_bytes(frame[4:8], "big"), frame[8], frame[9], frame[10])


def is_read_reply(frame: bytes, terminal: int = 0) -> bool:
    """Whether a checked frame is the BMS's reply to "read all" for ``terminal``."""
    head = header(frame)
    return (
        head.terminal == terminal
        and head.command == Command.READ_ALL
        and head.kind == REPLY
    )


def fields(frame: bytes) -> dict[int, bytes]:
    """The ID-coded fields of a checked reply, by ID.

    Every byte between head and tail must belong to a known field: an unknown
    ID, a repeated one or a field cut by the tail refuses the frame.
    """
    data = frame[HEAD_LENGTH:-TAIL_LENGTH]
    found: dict[int, bytes] = {}
    pos = 0
    while pos < len(data):
        field_id = data[pos]
        if field_id == CELLS_ID:
            if pos + 1 >= len(data):
                raise FrameError("JK 4E 57 cell field without its length")
            start, size = pos + 2, data[pos + 1]
        elif field_id in FIELD_SIZES:
            start, size = pos + 1, FIELD_SIZES[field_id]
        else:
            raise FrameError(f"unknown JK 4E 57 field {field_id:#04x}")
        if start + size > len(data) or field_id in found:
            raise FrameError(f"JK 4E 57 field {field_id:#04x} does not fit")
        found[field_id] = bytes(data[start : start + size])
        pos = start + size
    return found


def _temperature(raw: int) -> float:
    """0..100 °C as is; above 100 the part over 100 is below zero (101 is -1)."""
    return float(raw) if raw <= 100 else float(100 - raw)


def _current(raw: int, protocol: int) -> float:
    """Amperes, positive while charging.

    Protocol version 1 (field 0xC0): bit 15 set is charging, the rest is the
    value in 10 mA. Version 0: 10 mA steps below 10000 are charging, above are
    discharging ((10000 - raw) * 0.01).
    """
    if protocol == 1:
        magnitude = (raw & 0x7FFF) / 100
        return magnitude if raw & 0x8000 else 0.0 - magnitude
    return round((10000 - raw) / 100, 2)


def _text(value: bytes) -> str:
    return value.split(b"\x00", 1)[0].decode("ascii", errors="replace").strip()


def _u(value: bytes | None) -> int | None:
    return None if value is None else int.from_bytes(value, "big")


_VERSION = re.compile(r"(?P<hw>.*?)_+S(?P<sw>.*?)_*")


@dataclass(frozen=True, slots=True)
class Rs485Status:
    """A decoded "read all" reply."""

    cell_voltages: tuple[float, ...]
    temperatures: tuple[Temperature, ...]
    voltage: float
    current: float
    soc: int
    cycles: int | None
    cell_count: int | None
    warnings: int
    status: int
    design_capacity: float | None
    actual_capacity: float | None
    switches: dict[SwitchKind, bool | None]
    balancer_switch: bool | None
    hw_version: str | None
    sw_version: str | None
    model: str | None
    name: str | None
    protocol: int

    @property
    def charge_mosfet(self) -> bool:
        """0x8C bit 0: the charge MOSFET conducts."""
        return bool(self.status & 1)

    @property
    def discharge_mosfet(self) -> bool:
        """0x8C bit 1: the discharge MOSFET conducts."""
        return bool(self.status & 2)

    @property
    def balancing(self) -> bool:
        """0x8C bit 2: the balancer is at work."""
        return bool(self.status & 4)

    @property
    def alarms(self) -> frozenset[Alarm]:
        """The named alarms of the 0x8B warning bits."""
        return frozenset(a for bit, a in ALARM_BITS.items() if self.warnings >> bit & 1)


def _cells(value: bytes) -> tuple[float, ...]:
    """Cell voltages from ``<number> <mV u16>`` triples numbered 1, 2, 3, …."""
    if not value or len(value) % 3:
        raise FrameError("JK 4E 57 cell field is not whole triples")
    triples = [value[i : i + 3] for i in range(0, len(value), 3)]
    if [t[0] for t in triples] != list(range(1, len(triples) + 1)):
        raise FrameError("JK 4E 57 cells are not numbered 1, 2, 3, …")
    return tuple(int.from_bytes(t[1:], "big") / 1000 for t in triples)


def _versions(value: bytes | None) -> tuple[str | None, str | None]:
    """Hardware and software version of 0xB7 (``10.XW_S10.07___``)."""
    if value is None:
        return None, None
    text = _text(value)
    match = _VERSION.fullmatch(text)
    if match is None:
        return None, text or None
    return match["hw"].strip("_") or None, match["sw"] or None


def _model(value: bytes | None) -> str | None:
    """The model inside the 0xBA manufacturer text (``Input UserdaJK-B2A24S15P``)."""
    if value is None:
        return None
    text = _text(value)
    start = text.find("JK")
    return text[start:] if start >= 0 else None


def _name(value: bytes | None) -> str | None:
    """The 0xB4 device ID, unless it is the factory text ``Input Us``."""
    if value is None:
        return None
    text = _text(value)
    return None if text in ("", "Input Us") else text


def decode_status(frame: bytes) -> Rs485Status:
    """Decode a checked "read all" reply."""
    found = fields(frame)
    missing = [f"{i:#04x}" for i in REQUIRED if i not in found]
    if missing:
        raise FrameError(f"JK 4E 57 reply lacks {', '.join(missing)}")
    cells = _cells(found[CELLS_ID])
    protocol = _u(found.get(0xC0)) or 0
    mosfet, box, battery = (
        _temperature(int.from_bytes(found[i], "big")) for i in (0x80, 0x81, 0x82)
    )
    capacity = _u(found.get(0xAA))
    actual = _u(found.get(0xB9))
    hw, sw = _versions(found.get(0xB7))
    balancer = found.get(0x9D)
    return Rs485Status(
        cell_voltages=cells,
        temperatures=(
            Temperature(TemperatureKind.CELL, box),
            Temperature(TemperatureKind.CELL, battery),
            Temperature(TemperatureKind.MOSFET, mosfet),
        ),
        voltage=int.from_bytes(found[0x83], "big") / 100,
        current=_current(int.from_bytes(found[0x84], "big"), protocol),
        soc=found[0x85][0],
        cycles=_u(found.get(0x87)),
        cell_count=_u(found.get(0x8A)),
        warnings=int.from_bytes(found[0x8B], "big"),
        status=int.from_bytes(found[0x8C], "big"),
        design_capacity=None if capacity is None else float(capacity),
        actual_capacity=float(actual) if actual else None,
        switches={
            kind: None if field_id not in found else bool(found[field_id][0])
            for kind, field_id in SWITCH_FIELDS.items()
        },
        balancer_switch=None if balancer is None else bool(balancer[0]),
        hw_version=hw,
        sw_version=sw,
        model=_model(found.get(0xBA)),
        name=_name(found.get(0xB4)),
        protocol=protocol,
    )
