"""TDT frames: ``7E <ver> <addr> <func> <dp:2> <len:2> <data> <crc:2> 0D``.

TDT (XDZN) modules, sold in WattCycle packs among others, answer three reads
over BLE: 0x8C "analog quantity", 0x8D "warning info" and 0x92 "product
info". Every 16-bit field is big-endian; the CRC is CRC-16/MODBUS over every
byte before it, sent high byte first. A reply always starts with 0x7E, also
when the request began with the alternative head 0x1E [A] (BMS_BLE-HA #356).
Sources, cited below as [A] and [B]:

- [A] patman15/aiobmsble ``aiobmsble/bms/tdt_bms.py`` 0.31.0 (PyPI; its
  PR #257 fixed the MOSFET bits) and, for the captures,
  ``tests/bms/test_tdt_bms.py`` @ b0567331025033d33729385fa89a1198275d6486
- [B] qume/wattcycle_ble ``PROTOCOL.md``, ``src/wattcycle_ble/protocol.py`` and
  ``models.py`` @ 433a2e39ec4731a17423fab2f564a4882d42f3e6 (from the
  WattCycle app ``com.gz.wattcycle``)

Probes are 0.1 K with 273.0 K at 0 °C in both (the older [A] of the
captures used 273.1 K). They differ on the probes' places: [A] reads
ambient, MOSFET, then the cells; [B] MOSFET, PCB, then the cells. We follow
[A], the decoder in use with these modules in Home Assistant.

Not taken from [A] 0.31.0, for want of a capture: whole amperes and
ampere-hours from firmware whose version ends in ``1.x`` (the current's tenths
flag still tells its scale), and 0x8D replies with a broken CRC, which some
modules send: a frame whose CRC does not match is never read.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codecs.modbus import crc16
from ..errors import ChecksumError, FrameError
from ..fields import Field, Layout, read_fields
from ..snapshot import Alarm

HEADS = (0x7E, 0x1E)  # a request may start with either [A][B]
REPLY_HEAD = 0x7E
TAIL = 0x0D
VERSIONS = frozenset({0x00, 0x04})  # the reply versions [A] knows
ADDRESS = 0x01
READ = 0x03
ANALOG = 0x8C
WARNING = 0x8D
PRODUCT = 0x92
READS = frozenset({ANALOG, WARNING, PRODUCT})
HEAD = 8  # head, version, address, function, data point and data length
OVERHEAD = HEAD + 3  # CRC and tail
MAX_DATA = 255  # far above the longest reply (32 cells, 32 probes: 180)
MAX_CELLS = 32  # the app asks for up to 32 cells and 32 probes [B]
MAX_PROBES = 32
KELVIN_OFFSET = 2730  # 0.1 K at 0 °C [A][B]
PRODUCT_LENGTH = 60  # three 20-byte strings [B]

# The fixed tail of the analog reply, offsets after the last probe [A][B].
ANALOG_FIELDS = Layout(
    Field("voltage", 2, 2, scale=0.01, decimals=2),
    Field("remaining", 4, 2, scale=0.1, decimals=1),
    Field("full", 6, 2, scale=0.1, decimals=1),  # "totalCapacity" [B]
    Field("cycles", 8, 2),
    Field("design", 10, 2, scale=0.1, decimals=1),  # "designCapacity" [B]
    Field("soc", 12, 2),
)
ANALOG_TAIL = 14
# Newer firmware appends SOH ([A] reads it too), the charge throughput, the
# time left, three reserved words and the balance current [B]; no public
# capture shows it.
EXTENSION = 18
SOH_AT = ANALOG_TAIL
BALANCE_CURRENT_AT = ANALOG_TAIL + 16
# The SOC may differ from remaining / full by this many points (rounding).
SOC_TOLERANCE = 10

# The warning reply after the per-cell and per-probe states [B]: the states
# of charge current, voltage and discharge current, the mode, status
# registers 1 to 3, a reserved byte, status register 5, two reserved bytes
# and warning registers 1 and 2; then one balancing bit per cell.
WARNING_FIXED = 13
STATUS_1, STATUS_2, STATUS_3, STATUS_5 = 4, 5, 6, 8
CHARGE_FET = 0x02  # status register 3 [A]
DISCHARGE_FET = 0x04

# Protections and faults, from status registers 1, 2 and 5 [B].
STATUS_1_BITS = {
    0x01: Alarm.CELL_OVERVOLTAGE,  # cell overcharge
    0x02: Alarm.CELL_UNDERVOLTAGE,  # cell overdischarge
    0x04: Alarm.PACK_OVERVOLTAGE,  # total overcharge
    0x08: Alarm.PACK_UNDERVOLTAGE,  # total overdischarge
    0x10: Alarm.CHARGE_OVERCURRENT,
    0x20: Alarm.DISCHARGE_OVERCURRENT,
    0x40: Alarm.HARDWARE_FAULT,  # hardware protection
    0x80: Alarm.PACK_OVERVOLTAGE,  # charge voltage high
}
# 0x20 / 0x40 (ambient over / under temperature) have no alarm of their own:
# they stay in the protection code.
STATUS_2_BITS = {
    0x01: Alarm.CHARGE_OVERTEMPERATURE,
    0x02: Alarm.DISCHARGE_OVERTEMPERATURE,
    0x04: Alarm.CHARGE_UNDERTEMPERATURE,
    0x08: Alarm.DISCHARGE_UNDERTEMPERATURE,
    0x10: Alarm.MOSFET_OVERTEMPERATURE,
}
STATUS_5_BITS = {
    0x01: Alarm.HARDWARE_FAULT,  # cell fault
    0x02: Alarm.MOSFET_FAULT,  # charge MOSFET fault
    0x04: Alarm.MOSFET_FAULT,  # discharge MOSFET fault
    0x08: Alarm.TEMPERATURE_SENSOR_FAULT,
}
SUPPORTED_ALARMS = frozenset(
    {*STATUS_1_BITS.values(), *STATUS_2_BITS.values(), *STATUS_5_BITS.values()}
)


def build_request(command: int, head: int = REPLY_HEAD) -> bytes:
    """``<head> 00 01 03 00 <command> 00 00 <crc> 0D``: a read [A][B]."""
    body = bytes((head, 0x00, ADDRESS, READ, 0x00, command, 0x00, 0x00))
    return body + crc16(body).to_bytes(2, "big") + bytes((TAIL,))


def data_point(frame: bytes) -> int:
    """The data point a frame carries."""
    return int.from_bytes(frame[4:6])


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole reply with a matching CRC."""
    if len(frame) < OVERHEAD or frame[0] != REPLY_HEAD or frame[-1] != TAIL:
        raise FrameError("not a TDT frame")
    if len(frame) != int.from_bytes(frame[6:8]) + OVERHEAD:
        raise FrameError("TDT frame length mismatch")
    if frame[1] not in VERSIONS:
        raise FrameError("unknown TDT frame version")
    if crc16(frame[:-3]) != int.from_bytes(frame[-3:-1]):
        raise ChecksumError("TDT CRC mismatch")


def _payload(frame: bytes, command: int) -> bytes:
    """The data of a read reply to ``command``."""
    if frame[3] != READ or data_point(frame) != command:
        raise FrameError(f"not a TDT reply to 0x{command:02X}")
    return frame[HEAD:-3]


def _current(raw: int) -> float:
    """Bit 15 the sign, bit 14 set for tenths, 14 bits of magnitude [B]."""
    magnitude = (raw & 0x3FFF) / 10 if raw & 0x4000 else float(raw & 0x3FFF)
    return -magnitude if raw & 0x8000 else magnitude


@dataclass(frozen=True, slots=True, kw_only=True)
class TdtAnalog:
    """The decoded analog quantity reply (0x8C)."""

    cell_voltages: tuple[float, ...]
    # In frame order: ambient, MOSFET, then the cells [A].
    probes: tuple[float, ...]
    current: float
    voltage: float
    remaining: float
    full: float
    design: float
    cycles: int
    soc: int
    soh: int | None = None
    balance_current: float | None = None


def decode_analog(frame: bytes) -> TdtAnalog:
    """Decode a 0x8C reply (a frame that passed :func:`check_frame`)."""
    data = _payload(frame, ANALOG)
    cells = data[0]
    probes_at = 1 + 2 * cells
    if not 0 < cells <= MAX_CELLS or len(data) <= probes_at:
        raise FrameError("TDT cell count out of range")
    probes = data[probes_at]
    tail = data[probes_at + 1 + 2 * probes :]
    if probes > MAX_PROBES or len(tail) not in (ANALOG_TAIL, ANALOG_TAIL + EXTENSION):
        raise FrameError("TDT analog reply length does not fit its counts")
    values = read_fields(ANALOG_FIELDS, tail)
    remaining, full, soc = values["remaining"], values["full"], int(values["soc"])
    if soc > 100 or remaining > full:
        raise FrameError("TDT capacity or SOC out of range")
    if full and abs(soc - 100 * remaining / full) > SOC_TOLERANCE:
        raise FrameError("TDT SOC does not fit remaining / full capacity")
    extended = len(tail) > ANALOG_TAIL
    soh = int.from_bytes(tail[SOH_AT : SOH_AT + 2]) if extended else None
    if soh is not None and soh > 100:
        raise FrameError("TDT SOH out of range")
    return TdtAnalog(
        cell_voltages=tuple(
            int.from_bytes(data[at : at + 2]) / 1000 for at in range(1, probes_at, 2)
        ),
        probes=tuple(
            round((int.from_bytes(data[at : at + 2]) - KELVIN_OFFSET) / 10, 1)
            for at in range(probes_at + 1, probes_at + 1 + 2 * probes, 2)
        ),
        current=_current(int.from_bytes(tail[0:2])),
        voltage=values["voltage"],
        remaining=remaining,
        full=full,
        design=values["design"],
        cycles=int(values["cycles"]),
        soc=soc,
        soh=soh,
        balance_current=(
            _current(int.from_bytes(tail[BALANCE_CURRENT_AT : BALANCE_CURRENT_AT + 2]))
            if extended
            else None
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TdtWarning:
    """The decoded warning info reply (0x8D)."""

    cell_count: int
    probe_count: int
    charge_enabled: bool
    discharge_enabled: bool
    balancing_cells: frozenset[int]
    alarms: frozenset[Alarm]
    # Status register 5, 1 and 2; the low 16 bits are [A]'s ``problem_code``.
    protection_code: int


def decode_warning(frame: bytes) -> TdtWarning:
    """Decode a 0x8D reply (a frame that passed :func:`check_frame`)."""
    data = _payload(frame, WARNING)
    cells = data[0]
    if not 0 < cells <= MAX_CELLS or len(data) <= 1 + cells:
        raise FrameError("TDT cell count out of range")
    probes = data[1 + cells]
    fixed = 2 + cells + probes
    balance = (cells + 7) // 8
    if probes > MAX_PROBES or len(data) != fixed + WARNING_FIXED + balance:
        raise FrameError("TDT warning reply length does not fit its counts")
    status = data[fixed : fixed + WARNING_FIXED]
    bits = int.from_bytes(data[fixed + WARNING_FIXED :], "little")
    alarms = {
        alarm
        for register, table in (
            (STATUS_1, STATUS_1_BITS),
            (STATUS_2, STATUS_2_BITS),
            (STATUS_5, STATUS_5_BITS),
        )
        for bit, alarm in table.items()
        if status[register] & bit
    }
    return TdtWarning(
        cell_count=cells,
        probe_count=probes,
        charge_enabled=bool(status[STATUS_3] & CHARGE_FET),
        discharge_enabled=bool(status[STATUS_3] & DISCHARGE_FET),
        balancing_cells=frozenset(i + 1 for i in range(cells) if bits >> i & 1),
        alarms=frozenset(alarms),
        protection_code=(
            status[STATUS_5] << 16 | status[STATUS_1] << 8 | status[STATUS_2]
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TdtProduct:
    """The decoded product info reply (0x92)."""

    sw_version: str
    manufacturer: str
    serial_number: str


def decode_product(frame: bytes) -> TdtProduct:
    """Decode a 0x92 reply: three NUL-padded 20-byte strings [A][B]."""
    data = _payload(frame, PRODUCT)
    if len(data) != PRODUCT_LENGTH:
        raise FrameError("TDT product info of the wrong length")
    sw_version, manufacturer, serial = (
        data[at : at + 20].split(b"\x00")[0].decode("ascii", "replace").strip()
        for at in (0, 20, 40)
    )
    return TdtProduct(
        sw_version=sw_version, manufacturer=manufacturer, serial_number=serial
    )
