"""Vatrer smart BMS and the C4S100 (RC6621A) BMS: Modbus RTU holding registers.

Both answer reads of slave 0x02 (function 0x03) over the Nordic UART service,
one register table for both: aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/vatrer_bms.py`` (field offsets) and ``docs/c4s_bms.md``
(register map, checked against the C4S100's app). What differs is the reads
a BMS answers and where the probes sit: a Vatrer answers three blocks (the
status from 0, the cells from 21, the probes and state bits from 52), a
C4S100 only the 70 registers from 0 in one read, with its two probes at 16
and 17 (the same sdist's ``aiobmsble/bms/c4s_bms.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ..codecs import modbus
from ..errors import FrameError
from ..fields import Field, Layout, read_fields, unpack_run

DEVICE = 0x02
# Registers 22-51 hold the cells: 30 slots after the count at 21.
CELLS_AT = 21
MAX_CELLS = 30
# The probe block (52-69): the count, the probes, then the state from 59.
PROBES_AT = 52
# count + 2 probes must end before the problem registers (59): at most 4.
MAX_PROBE_COUNT = 4


@dataclass(frozen=True, slots=True)
class Block:
    """One holding-register read: where it starts and how many registers."""

    start: int
    count: int

    @property
    def request(self) -> bytes:
        """The read request to slave 0x02."""
        return modbus.read_request(DEVICE, self.start, self.count)

    @property
    def size(self) -> int:
        """The data bytes of its reply."""
        return 2 * self.count

    def at(self, register: int) -> int:
        """The data offset of ``register`` in this block's reply."""
        return 2 * (register - self.start)


# The Vatrer's three reads (vatrer_bms.py ``_CMDS``) and the C4S100's one.
STATUS = Block(0x00, 0x14)
CELLS = Block(CELLS_AT, 0x1F)
PROBES = Block(PROBES_AT, 0x12)
TABLE = Block(0x00, 0x46)

# Registers 0-7 (offsets from register 0): voltage 0.01 V, current 0.01 A
# (signed u32, + charging), SOC %, remaining and design capacity 0.01 Ah,
# cycles, SOH %.
STATUS_FIELDS = Layout(
    Field("voltage", 0, 2, scale=0.01, decimals=2),
    Field("current", 2, 4, signed=True, scale=0.01, decimals=2),
    Field("soc", 6, 2),
    Field("remaining", 8, 2, scale=0.01, decimals=2),
    Field("design", 10, 2, scale=0.01, decimals=2),
    Field("cycles", 12, 2),
    Field("soh", 14, 2),
)
# In the probe block: problem registers 59 to the high byte of 66 (15 bytes,
# any bit set is a problem), the MOSFET byte (high byte of 66) and the
# balancer registers 68-69 (vatrer_bms.py ``_FIELDS``).
PROBLEM = slice(PROBES.at(59), PROBES.at(59) + 15)
FET_BYTE = PROBES.at(66) + 1
CHARGE_FET = 0x10
DISCHARGE_FET = 0x20
BALANCER = Field("balancer", PROBES.at(68), 4)
# C4S100: MOSFET probe at 16, environment probe at 17 (c4s_bms.md).
C4S_PROBES = (TABLE.at(16), TABLE.at(17))


class Status(NamedTuple):
    """Registers 0-7, scaled."""

    voltage: float
    current: float
    soc: int
    remaining: float
    design: float
    cycles: int
    soh: int


class Cells(NamedTuple):
    """The cell count and voltages (registers 21-51)."""

    reported: int
    voltages: tuple[float, ...]


class Probes(NamedTuple):
    """The Vatrer's probe block: probes, MOSFET probe and state bits."""

    temperatures: tuple[float, ...]
    mosfet: float
    charge_fet: bool
    discharge_fet: bool
    balancing: bool
    problem_code: int


def _checked(data: bytes, block: Block) -> bytes:
    if len(data) != block.size:
        raise FrameError(
            f"Vatrer block {block.start:#06x}: {len(data)} bytes, not {block.size}"
        )
    return data


def decode_status(data: bytes, block: Block = STATUS) -> Status:
    """Registers 0-7 of the status read (Vatrer) or the whole table (C4S100)."""
    values = read_fields(STATUS_FIELDS, _checked(data, block))
    return Status(
        voltage=values["voltage"],
        current=values["current"],
        soc=int(values["soc"]),
        remaining=values["remaining"],
        design=values["design"],
        cycles=int(values["cycles"]),
        soh=int(values["soh"]),
    )


def decode_cells(data: bytes, block: Block = CELLS) -> Cells:
    """The count at 21 and its cells (mV); more than 30 is no frame of ours."""
    at = block.at(CELLS_AT)
    count = int.from_bytes(_checked(data, block)[at : at + 2], "big")
    if count > MAX_CELLS:
        raise FrameError(f"Vatrer: {count} cells")
    millivolts = unpack_run(data, at + 2, count)
    return Cells(count, tuple(mv / 1000 for mv in millivolts))


def _signed(data: bytes, offset: int) -> float:
    return float(int.from_bytes(data[offset : offset + 2], "big", signed=True))


def decode_probes(data: bytes) -> Probes:
    """The Vatrer probe block: count+1 probes, the MOSFET probe, the state."""
    count = int.from_bytes(_checked(data, PROBES)[0:2], "big")
    if count > MAX_PROBE_COUNT:
        raise FrameError(f"Vatrer: {count} probes")
    temps = tuple(_signed(data, 2 + 2 * i) for i in range(count + 1))
    return Probes(
        temperatures=temps,
        mosfet=_signed(data, 2 + 2 * (count + 1)),
        charge_fet=bool(data[FET_BYTE] & CHARGE_FET),
        discharge_fet=bool(data[FET_BYTE] & DISCHARGE_FET),
        balancing=bool(BALANCER.read(data)),
        problem_code=int.from_bytes(data[PROBLEM], "big"),
    )


def decode_c4s_probes(data: bytes) -> tuple[float, float]:
    """The C4S100's MOSFET and environment probes (registers 16 and 17)."""
    _checked(data, TABLE)
    mosfet, ambient = (_signed(data, at) for at in C4S_PROBES)
    return mosfet, ambient


@dataclass(frozen=True, slots=True)
class Variant:
    """What sets a BMS of the family apart: its reads, its name and brand."""

    name: str
    blocks: tuple[Block, ...]
    manufacturer: str
    model: str | None


# A Vatrer answers three reads; a C4S100 none of them, only the whole table
# (c4s_bms.md "Relation to VatrerBMS").
VATRER = Variant("vatrer", (STATUS, PROBES, CELLS), "Vatrer", None)
C4S = Variant("c4s", (TABLE,), "Generic", "C4S100")
VARIANTS: Mapping[str, Variant] = {v.name: v for v in (VATRER, C4S)}
