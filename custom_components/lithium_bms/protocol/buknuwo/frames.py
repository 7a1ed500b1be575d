"""Buknuwo BMS: Modbus RTU holding registers of device 0x01.

Sources, cited below as [A]: aiobmsble 0.31.0 (PyPI sdist)
``aiobmsble/bms/buknuwo_bms.py`` (the three reads, the fields it decodes),
``docs/buknuwo.md`` (the register map) and ``tests/bms/test_buknuwo_bms.py``
(the captured replies and the values it asserts).

Three reads per update, function 0x03 [A]: the status block (13 registers
from 0x0000), the MOSFET probe (register 0x0039) and the probe block (11
registers from 0x002E: the probe count, then up to ten probes). Register 5
is the full capacity: [A]'s map gives it in 0.01 Ah beside the remaining
charge (the PACE Modbus map, which [A]'s docs say this one resembles), and
the capture agrees (82.78 of 83.53 Ah at 99 %).

Registers 9 and 10 and the low byte of register 11 have no public bit
table: masked as [A] masks them, they are the protection code and raise no
named alarm. The high byte of register 11 holds the MOSFET states [A].
The block carries no cell voltages [A].
"""

from __future__ import annotations

from typing import NamedTuple

from ..codecs import modbus
from ..errors import FrameError
from ..fields import Field, Layout

SERVICE = "00002760-08c2-11e1-9073-0e8ac72e1001"
WRITE = "00002760-08c2-11e1-9073-0e8ac72e0001"
NOTIFY = "00002760-08c2-11e1-9073-0e8ac72e0002"

DEVICE = 0x01
FUNCTION = modbus.READ_HOLDING
STATUS_START, STATUS_COUNT = 0x0000, 13
MOSFET_PROBE_START = 0x0039
MAX_PROBES = 10
PROBES_START, PROBES_COUNT = 0x002E, MAX_PROBES + 1
STATUS_BYTES = 2 * STATUS_COUNT
MOSFET_PROBE_BYTES = 2
PROBES_BYTES = 2 * PROBES_COUNT

# Byte offsets in the status data (register n at 2n) [A].
PROBLEM = slice(18, 24)  # registers 9-11
# [A]'s mask: bits 6-7 of register 9, bit 7 of register 10 and the MOSFET
# byte of register 11 are no problem.
PROBLEM_MASK = 0xFF3F_FF7F_007F
MOSFETS = 22  # register 11
CHARGE_FET = 0x0400
DISCHARGE_FET = 0x0800

STATUS_FIELDS = Layout(
    Field("current", 0, 2, signed=True, scale=0.01, decimals=2),
    Field("voltage", 2, 2, scale=0.01, decimals=2),
    Field("state_of_charge", 4, 2),
    Field("state_of_health", 6, 2),
    Field("remaining_capacity", 8, 2, scale=0.01, decimals=2),
    Field("full_capacity", 10, 2, scale=0.01, decimals=2),
    Field("design_capacity", 12, 2, scale=0.01, decimals=2),
    Field("cycles", 14, 2),
)
# A probe: signed, 0.1 °C [A].
PROBE = 0.1


def status_request() -> bytes:
    """The read of the status block."""
    return modbus.read_request(DEVICE, STATUS_START, STATUS_COUNT, FUNCTION)


def mosfet_probe_request() -> bytes:
    """The read of the MOSFET probe."""
    return modbus.read_request(DEVICE, MOSFET_PROBE_START, 1, FUNCTION)


def probes_request() -> bytes:
    """The read of the probe count and the probes."""
    return modbus.read_request(DEVICE, PROBES_START, PROBES_COUNT, FUNCTION)


class BuknuwoStatus(NamedTuple):
    """The status block, decoded."""

    values: dict[str, float]
    charge_mosfet: bool
    discharge_mosfet: bool
    problem_code: int


def decode_status(data: bytes) -> BuknuwoStatus:
    """The status block's data (26 bytes, without header and CRC)."""
    if len(data) != STATUS_BYTES:
        raise FrameError(f"Buknuwo status of {len(data)} bytes")
    mosfets = int.from_bytes(data[MOSFETS : MOSFETS + 2], "big")
    return BuknuwoStatus(
        values=STATUS_FIELDS.read(data),
        charge_mosfet=bool(mosfets & CHARGE_FET),
        discharge_mosfet=bool(mosfets & DISCHARGE_FET),
        problem_code=int.from_bytes(data[PROBLEM], "big") & PROBLEM_MASK,
    )


def _celsius(data: bytes, offset: int) -> float:
    raw = int.from_bytes(data[offset : offset + 2], "big", signed=True)
    return round(raw * PROBE, 1)


def decode_mosfet_probe(data: bytes) -> float:
    """The MOSFET probe register's data (2 bytes), in °C."""
    if len(data) != MOSFET_PROBE_BYTES:
        raise FrameError(f"Buknuwo MOSFET probe of {len(data)} bytes")
    return _celsius(data, 0)


def decode_probes(data: bytes) -> tuple[float, ...]:
    """The probe block's data (22 bytes): the probes the count names, in °C."""
    if len(data) != PROBES_BYTES:
        raise FrameError(f"Buknuwo probe block of {len(data)} bytes")
    count = int.from_bytes(data[:2], "big")
    if count > MAX_PROBES:
        raise FrameError(f"Buknuwo probe block with {count} probes")
    return tuple(_celsius(data, 2 + 2 * i) for i in range(count))
