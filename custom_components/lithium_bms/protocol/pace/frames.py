"""PACE BMS over RS485/RS232: YD/T1363 requests and INFO decoders (pure functions).

The frames are YD/T1363 ASCII (``protocol/codecs/ydt1363.py``) with VER 0x25
and CID1 0x46. Every layout here is from the vendor's "PACE RS232 communication
protocol TY16S" (2018-07-05), as published in nkinnan/esphome-pace-bms
``protocol_documentation/paceic/0x25/`` (commit 2ba4bc6509), checked against
the captured frames and decoders of nkinnan/esphome-pace-bms
``components/pace_bms/pace_bms_protocol_v25.{h,cpp}`` (same commit) and
fancyui/Gobel-Battery-HA-Addon ``pacebms_rs485.py`` (commit 142cfb2759).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..codecs import ydt1363
from ..errors import FrameError
from ..snapshot import Alarm, SwitchKind, Temperature, TemperatureKind

VER = 0x25
CID1 = 0x46
# RTN (the CID2 field of a reply), PDF chart A.8; 0x09: "operation or write error".
RTN_CODES = frozenset({0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09})
# Temperatures are in 0.1 K with 0 °C at 2730 (PDF chart A.4).
KELVIN_OFFSET = 2730
PACE_PROBES = 6


class Command(IntEnum):
    """CID2 of a request (PDF chart A.7)."""

    ANALOG = 0x42
    STATUS = 0x44
    SOFTWARE_VERSION = 0xC1
    PRODUCT_INFO = 0xC2
    CHARGE_MOSFET = 0x9A
    DISCHARGE_MOSFET = 0x9B


MOSFET_COMMANDS = {
    SwitchKind.CHARGE: Command.CHARGE_MOSFET,
    SwitchKind.DISCHARGE: Command.DISCHARGE_MOSFET,
}
# INFO of 0x9A / 0x9B: 00 switches the MOSFET on, 01 off (PDF 4.7 and 4.8 call
# them "open" and "close"; the captures in syssi/esphome-pace-bms
# docs/pbmstools-communication.md, commit 06bd3eb49b, show 00 for "on").
MOSFET_ON = 0x00
MOSFET_OFF = 0x01


def request(address: int, command: Command, info: bytes = b"") -> bytes:
    """A request to the pack at ``address``."""
    return ydt1363.build_frame(VER, address, CID1, command, info)


def pack_request(address: int, command: Command) -> bytes:
    """0x42 or 0x44 for one pack: INFO is the pack's own address."""
    return request(address, command, bytes((address,)))


def mosfet_request(address: int, kind: SwitchKind, on: bool) -> bytes:
    """0x9A or 0x9B switching one MOSFET."""
    return request(
        address, MOSFET_COMMANDS[kind], bytes((MOSFET_ON if on else MOSFET_OFF,))
    )


def is_reply(frame: bytes) -> bool:
    """Whether a valid frame is a PACE reply (not a request, not another family)."""
    parsed = ydt1363.parse_frame(frame)
    return parsed.ver == VER and parsed.cid1 == CID1 and parsed.cid2 in RTN_CODES


class _Reader:
    """Reads INFO front to back; too few bytes is a FrameError."""

    def __init__(self, info: bytes, name: str) -> None:
        self.info = info
        self.name = name
        self.pos = 0

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.info):
            raise FrameError(f"PACE {self.name} INFO too short ({len(self.info)} B)")
        chunk, self.pos = self.info[self.pos : end], end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def word(self, *, signed: bool = False) -> int:
        return int.from_bytes(self.take(2), "big", signed=signed)


@dataclass(frozen=True, slots=True)
class Analog:
    """One pack's 0x42 reply (PDF charts A.13 and A.14). Units: V, A, Ah, °C."""

    pack: int
    cells: tuple[float, ...]
    temperatures: tuple[float, ...]
    current: float
    voltage: float
    remaining_capacity: float
    full_capacity: float
    cycles: int
    design_capacity: float

    @property
    def state_of_charge(self) -> float | None:
        """Remaining over full capacity (the reply has no SOC field)."""
        if self.full_capacity <= 0:
            return None
        return round(min(100.0, 100 * self.remaining_capacity / self.full_capacity), 1)

    @property
    def state_of_health(self) -> float | None:
        """Full over design capacity, at most 100 (as nkinnan's decoder does)."""
        if self.design_capacity <= 0:
            return None
        return round(min(100.0, 100 * self.full_capacity / self.design_capacity), 1)

    def probes(self) -> tuple[Temperature, ...]:
        """The probes by kind: with six, four cells, the MOSFET, then ambient.

        Six is what PACE boards report (nkinnan pace_bms_protocol_v25.h,
        AnalogInformation; patman15/aiobmsble aiobmsble/bms/pace_bms.py names the
        same order); any other count is read as cell probes.
        """
        kinds = [TemperatureKind.CELL] * len(self.temperatures)
        if len(kinds) == PACE_PROBES:
            kinds[4:] = [TemperatureKind.MOSFET, TemperatureKind.AMBIENT]
        return tuple(
            Temperature(kind, value)
            for kind, value in zip(kinds, self.temperatures, strict=True)
        )


def decode_analog(info: bytes) -> Analog:
    """Decode a 0x42 reply's INFO.

    INFOFLAG, the pack number, the cells (mV), the probes (0.1 K), current
    (10 mA, signed, + charging), voltage (mV), remaining capacity (10 mAh), the
    count P of user fields (3 in the PDF), full capacity, cycles and design
    capacity. Bytes after these are a vendor extension (nkinnan skips the 14
    that packs with P = 9 add) and are not read.
    """
    read = _Reader(info, "analog")
    read.byte()  # INFOFLAG: 00 or 01
    pack = read.byte()
    cells = tuple(read.word() / 1000 for _ in range(read.byte()))
    temperatures = tuple((read.word() - KELVIN_OFFSET) / 10 for _ in range(read.byte()))
    current = read.word(signed=True) / 100
    voltage = read.word() / 1000
    remaining = read.word() / 100
    read.byte()  # P, the count of user-defined fields
    return Analog(
        pack=pack,
        cells=cells,
        temperatures=temperatures,
        current=current,
        voltage=voltage,
        remaining_capacity=remaining,
        full_capacity=read.word() / 100,
        cycles=read.word(),
        design_capacity=read.word() / 100,
    )


# Protect state 1 and 2 (PDF charts A.19, A.20), then the fault state (A.23)
# and warn state 2 (A.25) as one number: protect1 | protect2 << 8 | fault << 16
# | warn2 << 24. Protect 2 bits 5 and 6 (ambient over/under temperature) and 7
# ("fully", a full pack) have no alarm key and get none.
ALARM_BITS: dict[int, Alarm] = {
    0: Alarm.CELL_OVERVOLTAGE,
    1: Alarm.CELL_UNDERVOLTAGE,
    2: Alarm.PACK_OVERVOLTAGE,
    3: Alarm.PACK_UNDERVOLTAGE,
    4: Alarm.CHARGE_OVERCURRENT,
    5: Alarm.DISCHARGE_OVERCURRENT,
    6: Alarm.SHORT_CIRCUIT,
    8: Alarm.CHARGE_OVERTEMPERATURE,
    9: Alarm.DISCHARGE_OVERTEMPERATURE,
    10: Alarm.CHARGE_UNDERTEMPERATURE,
    11: Alarm.DISCHARGE_UNDERTEMPERATURE,
    12: Alarm.MOSFET_OVERTEMPERATURE,
    16: Alarm.MOSFET_FAULT,  # charge MOSFET fault
    17: Alarm.MOSFET_FAULT,  # discharge MOSFET fault
    18: Alarm.TEMPERATURE_SENSOR_FAULT,  # NTC fault
    20: Alarm.HARDWARE_FAULT,  # cell fault
    21: Alarm.FRONTEND_ERROR,  # sample fault
    31: Alarm.SOC_LOW,  # low power warning
}
SUPPORTED_ALARMS = frozenset(ALARM_BITS.values())
# Instruction state (PDF chart A.21).
CHARGE_FET_BIT = 1 << 1
DISCHARGE_FET_BIT = 1 << 2


@dataclass(frozen=True, slots=True)
class Status:
    """One pack's 0x44 reply (PDF charts A.17 and A.18).

    The per-cell, per-probe, current and voltage warnings (00 normal, 01 below
    the lower limit, 02 above the upper one) and warn state 1 are warnings
    below the protections that follow; they are kept but raise no alarm.
    """

    pack: int
    cell_warnings: tuple[int, ...]
    temperature_warnings: tuple[int, ...]
    protect1: int
    protect2: int
    instruction: int
    control: int
    fault: int
    balancing_cells: frozenset[int]
    warn1: int
    warn2: int

    @property
    def code(self) -> int:
        """The alarm bits as one number (see :data:`ALARM_BITS`)."""
        return self.protect1 | self.protect2 << 8 | self.fault << 16 | self.warn2 << 24

    @property
    def alarms(self) -> frozenset[Alarm]:
        """The named alarms that are set."""
        code = self.code
        return frozenset(a for bit, a in ALARM_BITS.items() if code >> bit & 1)

    @property
    def charge_mosfet(self) -> bool:
        """Whether the charge MOSFET conducts ("CFET indicate")."""
        return bool(self.instruction & CHARGE_FET_BIT)

    @property
    def discharge_mosfet(self) -> bool:
        """Whether the discharge MOSFET conducts ("DFET indicate")."""
        return bool(self.instruction & DISCHARGE_FET_BIT)


def decode_status(info: bytes) -> Status:
    """Decode a 0x44 reply's INFO.

    Balance state 1 holds cells 1-8 and balance state 2 cells 9-16, bit 0
    first, as the PDF's chart A.18 says (nkinnan reads the two bytes as one
    big-endian word instead; no capture with balancing settles it). A byte
    after warn state 2 is a vendor extension (nkinnan skips it).
    """
    read = _Reader(info, "status")
    read.byte()  # INFOFLAG
    pack = read.byte()
    cell_warnings = tuple(read.take(read.byte()))
    temperature_warnings = tuple(read.take(read.byte()))
    read.take(3)  # charge current, total voltage, discharge current warnings
    protect1, protect2, instruction, control, fault = read.take(5)
    balance = int.from_bytes(read.take(2), "little")
    warn1, warn2 = read.take(2)
    return Status(
        pack=pack,
        cell_warnings=cell_warnings,
        temperature_warnings=temperature_warnings,
        protect1=protect1,
        protect2=protect2,
        instruction=instruction,
        control=control,
        fault=fault,
        balancing_cells=frozenset(i + 1 for i in range(16) if balance >> i & 1),
        warn1=warn1,
        warn2=warn2,
    )


def decode_text(info: bytes) -> str:
    """A C1 or C2 reply: ASCII fields of 20 characters, padded with spaces or NULs.

    C2 holds the BMS's production information and, in a 40-character reply,
    the pack's (PDF 4.6; Gobel's parse_product_info_data); the non-empty
    fields are joined by a space.
    """
    fields = (info[i : i + 20] for i in range(0, len(info), 20))
    texts = (f.decode("ascii", errors="replace").strip(" \0") for f in fields)
    return " ".join(text for text in texts if text)
