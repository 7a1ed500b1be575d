"""Saihang (Anenji) frames: a Modbus RTU register read behind ``A5 A5``.

Sources, cited as [A] and [B]: aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/saihang_bms.py`` with ``tests/bms/test_saihang_bms.py`` (one
captured reply and the values it asserts) [A], and ``docs/saihang_bms.md``
of the same sdist (the layout table and a second pack's field values) [B].

The request is ``A5 A5`` and a Modbus read of holding registers 0-71 from
address 0; the reply is ``A5 A5`` and a Modbus response: address, 0x03, the
byte count (144), the registers and a CRC-16/MODBUS (little-endian) over
everything after ``A5 A5`` [A]. Offsets below count from the first ``A5``
[A][B]. Temperatures are in 0.1 K above 273.0 K; unused cell and probe
slots read 0xFFFF [A].
"""

from __future__ import annotations

from typing import NamedTuple

from ..codecs import modbus
from ..errors import FrameError
from ..fields import Field, Layout, read_fields, unpack_run

HEAD = b"\xa5\xa5"
ADDRESS = 0x00  # what [A] asks and its captured reply carries
REGISTERS = 0x48
REQUEST = HEAD + modbus.read_request(ADDRESS, 0, REGISTERS)
BYTE_COUNT = 2 * REGISTERS
REPLY_LENGTH = len(HEAD) + 5 + BYTE_COUNT
MAX_CELLS = 20  # cell slots 45-84 [A]
MAX_PROBES = 10  # probe slots 87-106 [A]
CELLS_AT = 45
PROBES_AT = 87
UNUSED = 0xFFFF
KELVIN_OFFSET = 2730  # 0.1 K [A]
# Status word (offset 37) bits [A][B]; bit 13 (AC in, [B]) is not shown.
CHARGE_FET = 0x0200
DISCHARGE_FET = 0x0400

# [A] reads the fields, [B] names offset 21 the capacity when full. The
# problem word at 31 reads 0xFFFF without a problem: [A] inverts it.
_FIELDS = Layout(
    Field("current", 5, 4, signed=True, scale=0.01, decimals=2),
    Field("voltage", 9, 4, scale=0.01, decimals=2),
    Field("soc", 13, 2),
    Field("soh", 15, 2),
    Field("remaining", 17, 4, scale=0.01, decimals=2),
    Field("full", 21, 4, scale=0.01, decimals=2),
    Field("design", 25, 4, scale=0.01, decimals=2),
    Field("cycles", 29, 2),
    Field("problem", 31, 2),
    Field("state", 37, 2),
    Field("balancing", 41, 2),
    Field("cells", 43, 2),
    Field("probes", 85, 2),
    Field("mosfet", 107, 2),
    Field("ambient", 109, 2),
)


class SaihangStatus(NamedTuple):
    """The decoded reply."""

    voltage: float
    current: float
    cell_voltages: tuple[float, ...]
    temperatures: tuple[float, ...]
    mosfet_temperature: float | None
    ambient_temperature: float | None
    soc: int
    soh: int
    remaining: float
    full: float
    design: float
    cycles: int
    balancing: bool
    charge_fet: bool
    discharge_fet: bool
    problem_code: int


def check_frame(frame: bytes) -> None:
    """Raise unless ``frame`` is one whole, intact reply."""
    if frame[:2] != HEAD:
        raise FrameError("not a Saihang frame")
    reply = modbus.parse_response(frame[2:])
    if reply.function != modbus.READ_HOLDING or len(reply.data) != BYTE_COUNT:
        raise FrameError("not a Saihang status reply")


def kelvin(raw: int) -> float:
    """°C from 0.1 K [A]."""
    return round((raw - KELVIN_OFFSET) / 10, 1)


def decode_status(frame: bytes) -> SaihangStatus:
    """Decode a reply; raise where it contradicts its own counts."""
    check_frame(frame)
    scaled = read_fields(_FIELDS, frame)
    values = {name: int(v) for name, v in scaled.items()}
    cells = values["cells"]
    probes = values["probes"]
    if not 1 <= cells <= MAX_CELLS or probes > MAX_PROBES:
        raise FrameError("Saihang cell or probe count out of range")
    millivolts = unpack_run(frame, CELLS_AT, cells)
    raw_probes = unpack_run(frame, PROBES_AT, probes)
    if UNUSED in millivolts or UNUSED in raw_probes:
        raise FrameError("Saihang reports an unused slot within its count")
    if values["soc"] > 100 or values["soh"] > 100:
        raise FrameError("Saihang SOC or SOH out of range")
    state = values["state"]
    return SaihangStatus(
        voltage=scaled["voltage"],
        current=scaled["current"],
        cell_voltages=tuple(mv / 1000 for mv in millivolts),
        temperatures=tuple(kelvin(raw) for raw in raw_probes),
        mosfet_temperature=_probe(values["mosfet"]),
        ambient_temperature=_probe(values["ambient"]),
        soc=values["soc"],
        soh=values["soh"],
        remaining=scaled["remaining"],
        full=scaled["full"],
        design=scaled["design"],
        cycles=values["cycles"],
        balancing=bool(values["balancing"]),
        charge_fet=bool(state & CHARGE_FET),
        discharge_fet=bool(state & DISCHARGE_FET),
        problem_code=~values["problem"] & 0xFFFF,
    )


def _probe(raw: int) -> float | None:
    """A dedicated probe's °C, None where its slot reads unused."""
    return None if raw == UNUSED else kelvin(raw)
